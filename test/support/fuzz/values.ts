import fc from 'fast-check';

/**
 * A GraphQL input value as the fuzzer builds it, printable both as a GraphQL literal and as JSON
 * (variables). Numbers keep their text, so 2^53 + 1 or 1e400 reach the server exactly as written.
 */
export type V =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'num'; text: string }
  | { t: 'str'; v: string; block?: boolean }
  | { t: 'enum'; v: string }
  | { t: 'list'; v: V[] }
  | { t: 'obj'; v: [string, V][] };

export const vNull: V = { t: 'null' };
export const vStr = (v: string): V => ({ t: 'str', v });
export const vNum = (n: number | string): V => ({ t: 'num', text: String(n) });
export const vEnum = (v: string): V => ({ t: 'enum', v });

/** As a GraphQL literal. Strings are JSON-escaped, which GraphQL reads the same way (a lone
 * surrogate escape is a syntax error in GraphQL: that, too, is worth sending). */
export function literal(value: V): string {
  switch (value.t) {
    case 'null':
      return 'null';
    case 'bool':
      return String(value.v);
    case 'num':
      return value.text;
    case 'str':
      return value.block ? `"""${value.v.replaceAll('"""', '\\"""')}"""` : JSON.stringify(value.v);
    case 'enum':
      return value.v;
    case 'list':
      return `[${value.v.map(literal).join(', ')}]`;
    case 'obj':
      return `{ ${value.v.map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`;
  }
}

/** As JSON text (for variables). */
export function json(value: V): string {
  switch (value.t) {
    case 'null':
      return 'null';
    case 'bool':
      return String(value.v);
    case 'num':
      return value.text;
    case 'str':
    case 'enum':
      return JSON.stringify(value.v);
    case 'list':
      return `[${value.v.map(json).join(',')}]`;
    case 'obj':
      return `{${value.v.map(([k, v]) => `${JSON.stringify(k)}:${json(v)}`).join(',')}}`;
  }
}

/** The JavaScript value a server sees after JSON.parse of json(value). */
export const jsValue = (value: V): unknown => JSON.parse(json(value));

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
export const globalId = (type: string, id: string) => b64(`${type}:${id}`);

// ---------------------------------------------------------------------------------------------
// Primitive hostile values

/** Pieces that have broken text handling somewhere, some time. */
const SPECIALS = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\udc00\ud800',
  '\ud83d\ude42',
  '\u200b',
  '\u202e',
  '\ufeff',
  'e\u0301',
  '𝕏',
  'İ',
  'ß',
  'ﬃ',
  '\u212a',
  '\u00a0',
  '\n',
  '\r\n',
  '\t',
  '"',
  '\\',
  '\\u0000',
  "'",
  '`',
  '${x}',
  '%00',
  '%s%n',
  '<script>',
  "' OR '1'='1",
  '--',
  ';',
  '{',
  '}',
  '$',
  '#',
  '…',
  ' ',
  '__proto__',
  'constructor',
  '0x',
];

export const specialPiece = fc.constantFrom(...SPECIALS);

/** Short hostile text: arbitrary code points mixed with the pieces above. */
export const hostileShortText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 24 }),
  fc.array(fc.oneof(specialPiece, fc.string({ unit: 'binary-ascii', maxLength: 6 })), { maxLength: 10 }).map((parts) => parts.join('')),
);

/** Lengths around the documented limits, and a few far beyond (bodies go up to ~150 KB). */
export const LENGTHS = [0, 1, 2, 3, 4, 5, 19, 20, 32, 33, 60, 61, 139, 140, 141, 199, 200, 256, 257, 2000, 2001, 5000, 5001, 20_000, 60_000, 99_000, 150_000];

const FILLERS = ['a', 'Ab ', 'é', '🙂', 'x\u0000', '\ud800', ' ', 'ab\u0301', '"\\'];

/** Text of a chosen length, filled with one (possibly hostile) repeated piece. */
export const longText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...LENGTHS), fc.constantFrom(...FILLERS), hostileShortText)
  .map(([length, filler, tail]) => filler.repeat(Math.ceil(length / filler.length)).slice(0, length) + tail);

export const hostileText: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: hostileShortText }, { weight: 1, arbitrary: longText });

/** Plausible prose of min..max characters (a little beyond each end, too). */
export function prose(min: number, max: number): fc.Arbitrary<string> {
  const sentence = 'A friend asks you to keep a secret that could hurt someone else; do you? ';
  return fc
    .tuple(fc.integer({ min: Math.max(0, min - 2), max: max + 2 }), fc.constantFrom('', ' 🙂', ' é', ' ﬃ', '  '), fc.nat(1000))
    .map(([length, extra, salt]) => `${salt} ${sentence.repeat(Math.ceil((length + 8) / sentence.length))}`.slice(0, Math.max(0, length - extra.length)) + extra);
}

/** Ints: page-size-like, and every edge of Int, safe integers and doubles, as text. */
export const hostileIntText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 110 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '0',
      '-0',
      '-1',
      '100',
      '101',
      '2147483647',
      '2147483648',
      '-2147483648',
      '-2147483649',
      '9007199254740991',
      '9007199254740993',
      '-9007199254740993',
      '99999999999999999999999',
      '1e3',
      '1E400',
      '-1e400',
      '1.5',
      '0.0',
      '1e-400',
    ),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)) },
);

export const uuid = fc.uuid();

/** Any value at all, of any GraphQL kind: what a wrong-type argument gets. */
export const anyValue: fc.Arbitrary<V> = fc.letrec<{ value: V }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(vNull),
    fc.boolean().map((v): V => ({ t: 'bool', v })),
    hostileIntText.map((text): V => ({ t: 'num', text })),
    hostileShortText.map((v): V => ({ t: 'str', v })),
    fc.constantFrom('A', 'B', 'OPEN', 'CLOSED', 'ALL_TIME', 'NOPE', 'true', 'null_', 'a').map((v): V => ({ t: 'enum', v })),
    fc.array(tie('value'), { maxLength: 3 }).map((v): V => ({ t: 'list', v })),
    fc.array(fc.tuple(fc.constantFrom('a', 'id', 'handle', 'password', 'title', 'x_1', '__proto__'), tie('value')), { maxLength: 3 }).map((v): V => ({ t: 'obj', v })),
  ),
})).value;

/** Malformed ids and cursors that belong to nothing. */
export const malformedToken: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'garbage',
    '=',
    '====',
    'Q2FzZTo=',
    'R1BDOlM6',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '{00000000-0000-0000-0000-000000000000}',
    '%00',
    '\u0000',
    '\ud800',
    'null',
    'undefined',
    '../../etc/passwd',
  ),
  hostileText,
  fc.tuple(fc.constantFrom('Case', 'Argument', 'User', 'Vote', 'Reward', 'JobRun', 'Badge', 'Query', 'Node', 'Nope', '', 'case', 'GPC'), fc.oneof(uuid, hostileShortText, fc.constant(''), fc.constantFrom('1', '-1', ':', 'S:x')))
    .map(([type, id]) => globalId(type, id)),
  fc.tuple(fc.constantFrom('GPC:S:', 'GPC:N:', 'GPC:J:', 'GPC:D:', 'GPC:', 'OffsetConnection:', 'arrayconnection:', 'GPC:S:GPC:S:'), fc.oneof(uuid, hostileShortText, fc.constantFrom('{"id":"x"}', '[1', '5', '-1', '1e400', 'null', '{}', '[]', '{"id":1}')))
    .map(([prefix, rest]) => b64(prefix + rest)),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  uuid.map((id) => id.toUpperCase()),
  uuid.map((id) => ` ${id} `),
  uuid.map((id) => id.replaceAll('-', '')),
);

/** A 0x address in every shape: valid lower-case, bad checksum, short, long, not hex, ENS. */
export const addressText: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex').toUpperCase()}`),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${[...Buffer.from(b).toString('hex')].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('')}`),
  fc.uint8Array({ maxLength: 40 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.constantFrom('0x0', '0x', 'vitalik.eth', '0x0000000000000000000000000000000000000000', '0xZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ', ''),
  hostileText,
);
