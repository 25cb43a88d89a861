// A real SMTP server in the test's process (smtp-server, no TLS, any sender): every message is
// parsed, kept and announced, or refused with a 451 while `refuse` is set.
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface TestSmtp {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  /** Every message accepted, in order. */
  received: ParsedMail[];
  /** Emits 'mail' with each message accepted. */
  arrived: EventEmitter;
  /** While true, every message is refused (451, try later). */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const smtp: Omit<TestSmtp, 'url' | 'close'> = { received: [], arrived: new EventEmitter(), refuse: false };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        if (smtp.refuse) {
          callback(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
          return;
        }
        smtp.received.push(mail);
        callback();
        smtp.arrived.emit('mail', mail);
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(smtp, {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
