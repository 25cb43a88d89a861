/**
 * Passwords of 10 characters or more that appear at the top of every published list of leaked
 * passwords (shorter ones are refused by length already). Compared in lower case.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '1234567890', '12345678910', '123456789a', '0123456789', '0987654321', '9876543210', '1111111111',
  '0000000000', '1234512345', '1122334455', '1qaz2wsx3edc', '1q2w3e4r5t', '1q2w3e4r5t6y', 'q1w2e3r4t5',
  'qwertyuiop', 'qwerty1234', 'qwerty12345', 'qwerty123456', 'qwertyuiop123', 'asdfghjkl1', 'asdfghjkl;',
  'zxcvbnm123', 'zaq12wsxcde3', 'zaq1zaq1zaq1', 'password12', 'password123', 'password1234', 'password!!',
  'password01', 'passw0rd123', 'p@ssw0rd123', 'p@ssword123', 'mypassword', 'mypassword1', 'password1!',
  'iloveyou12', 'iloveyou123', 'letmein123', 'welcome123', 'welcome1234', 'changeme123', 'trustno1234',
  'football12', 'football123', 'baseball123', 'basketball', 'basketball1', 'superman123', 'batman1234',
  'starwars123', 'pokemon123', 'princess12', 'sunshine123', 'monkey1234', 'dragon1234', 'master1234',
  'shadow1234', 'michael123', 'jennifer12', 'charlie123', 'jordan2323', 'computer12', 'internet12',
  'whatever12', 'administrator', 'admin12345', 'admin123456', 'adminadmin', 'rootroot12', 'abcdefghij',
  'abcd123456', 'abc1234567', 'abcdef1234', 'aaaaaaaaaa', 'qazwsxedcrfv', 'thequickbrownfox',
  'correcthorsebatterystaple', 'letmeinplease', 'iloveyouforever', 'myspace123', 'facebook123',
  'linkedin123', 'verdict123', 'verdictverdict',
]);
