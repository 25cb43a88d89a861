import fc from 'fast-check';
import type { GraphQLSchema } from 'graphql';
import { authFor, describeOp, fieldOperations, rootFields, type Identity, type Op, type Pools, type Selections } from './operations.js';
import type { FrameOptions } from './runner.js';
import { hostileShortText } from './values.js';

/** Frames on one socket, as sent: what the graphql-ws client library would never send. */
export interface Frames {
  op: Op;
  frames: (string | Buffer)[];
  options: FrameOptions;
}

const IDENTITIES: Identity[] = ['anonymous', 'user', 'admin'];

const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);

function described(frames: Frames): Frames {
  return Object.defineProperty(frames, fc.toStringMethod, {
    value: () =>
      `\n${describeOp(frames.op)}\n  protocol: ${frames.options.protocol === undefined ? 'graphql-transport-ws' : String(frames.options.protocol)}, init: ${frames.options.init === undefined ? 'default' : JSON.stringify(frames.options.init)}, await: ${JSON.stringify(frames.options.awaitIds ?? 'every subscribe')}\n${frames.frames
        .map((f) => `  > ${typeof f === 'string' ? clip(f) : `<${f.length} bytes binary>`}`)
        .join('\n')}\n`,
    enumerable: false,
  });
}

interface Scenario {
  label: string;
  query: string | undefined;
  frames: (string | Buffer)[];
  options: FrameOptions;
}

const subscribe = (id: string, payload: string) => `{"id":${JSON.stringify(id)},"type":"subscribe","payload":${payload}}`;

/**
 * Raw graphql-transport-ws traffic: hostile subscribe payloads and ids, unknown and misplaced
 * message types, bad JSON and binary frames, missing, repeated or malformed connection_init,
 * other subprotocols, oversized frames, more operations than a socket may run.
 */
export function rawFrames(schema: GraphQLSchema, pools: Pools, selections: Selections): fc.Arbitrary<Frames> {
  const w = pools.world;
  const fixedDocs = [
    '{ __typename }',
    '{ me { handle } }',
    '{ cases(first: 2) { edges { cursor } } }',
    `mutation { castVote(caseId: ${JSON.stringify(w.cases.open[2]!.id)}, side: A) { id } }`,
    'mutation { walletChallenge(address: "0x0") { message } }',
    '{ nosuch }',
    'subscription { nosuch }',
    '{ node(id: "x") { id } }',
    '{ jobs { name } }',
  ];
  const fields = (['query', 'mutation'] as const).flatMap((kind) => rootFields(schema, kind).filter((f) => f.name !== 'signIn' && f.name !== 'signUp').map((field) => ({ kind, field })));
  const doc = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...fixedDocs).map((query) => ({ query, variables: undefined as string | undefined })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...fields)
        .chain(({ kind, field }) => fieldOperations(schema, pools, selections, kind, field, 'user'))
        .map((op) => ({ query: op.query!, variables: op.variables })),
    },
  );
  const identity = fc.constantFrom(...IDENTITIES).chain((as) => authFor(w, as));
  const jsonPiece = fc.constantFrom('{}', '[]', '"x"', '1', 'null', 'true', '{"a":[1,{"b":null}]}', '"\\u0000"', '"\\ud800"');

  const payloads = fc
    .tuple(
      doc,
      fc.oneof({ weight: 3, arbitrary: fc.constant('doc') }, { weight: 1, arbitrary: fc.constantFrom('123', 'null', '{}', '[]', 'absent', '"\\u0000"') }),
      fc.oneof({ weight: 3, arbitrary: fc.constant('doc') }, { weight: 1, arbitrary: fc.oneof(jsonPiece, fc.constant('absent')) }),
      fc.option(fc.oneof(fc.constantFrom('1', '{}', 'null', '"A"'), hostileShortText.map((s) => JSON.stringify(s))), { nil: undefined }),
      fc.option(jsonPiece, { nil: undefined }),
    )
    .map(([d, query, variables, operationName, extensions]) => {
      const parts = [
        query === 'doc' ? `"query":${JSON.stringify(d.query)}` : query === 'absent' ? null : `"query":${query}`,
        variables === 'doc' ? (d.variables !== undefined ? `"variables":${d.variables}` : null) : variables === 'absent' ? null : `"variables":${variables}`,
        operationName !== undefined ? `"operationName":${operationName}` : null,
        extensions !== undefined ? `"extensions":${extensions}` : null,
      ].filter(Boolean);
      return { query: query === 'doc' ? d.query : undefined, payload: `{${parts.join(',')}}` };
    });

  const scenario: fc.Arbitrary<Scenario> = fc.oneof(
    // One subscribe with a hostile payload.
    payloads.map((p) => ({ label: 'payload', query: p.query, frames: [subscribe('1', p.payload)] as (string | Buffer)[], options: { awaitIds: ['1'] } as FrameOptions })),
    // Payloads that are not objects at all.
    fc.constantFrom('null', '[]', '"{ __typename }"', '1', '{"query":"{ __typename }"').map((payload) => ({ label: 'payload shape', query: undefined, frames: [`{"id":"1","type":"subscribe","payload":${payload}}`], options: { awaitIds: ['1'] } })),
    // Ids: empty, not strings, huge, NUL, or already running.
    fc
      .constantFrom('""', '1', 'null', '{}', JSON.stringify('x'.repeat(10_000)), '"\\u0000"', '"\\ud800"')
      .map((id) => ({ label: 'id', query: '{ __typename }', frames: [`{"id":${id},"type":"subscribe","payload":{"query":"{ __typename }"}}`], options: { awaitIds: [] } })),
    fc.constant<Scenario>({
      label: 'duplicate id',
      query: 'subscription { caseOpened { id } }',
      frames: [subscribe('d', '{"query":"subscription { caseOpened { id } }"}'), subscribe('d', '{"query":"{ __typename }"}')],
      options: { awaitIds: ['d'] },
    }),
    // Message types the server must not get, or does not know.
    fc
      .array(
        fc.oneof(
          fc.constantFrom(
            '{"type":"start","id":"1","payload":{"query":"{ __typename }"}}',
            '{"type":"stop","id":"1"}',
            '{"type":"connection_terminate"}',
            '{"type":"ka"}',
            '{"type":"next","id":"1","payload":{"data":{}}}',
            '{"type":"error","id":"1","payload":[]}',
            '{"type":"complete","id":"nope"}',
            '{"type":"complete"}',
            '{"type":"ping","payload":[1]}',
            '{"type":"ping","payload":{"a":1}}',
            '{"type":"pong","payload":"x"}',
            '{"type":"connection_ack"}',
            '{"type":1}',
            '{"type":null}',
            '{}',
            '[]',
            'null',
            '"subscribe"',
            '{bad',
            '',
            '\u0000',
          ),
          hostileShortText,
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((frames) => ({ label: 'message types', query: undefined, frames, options: { awaitIds: [] } })),
    // connection_init missing, malformed, carrying odd credentials, or sent twice.
    fc
      .tuple(
        fc.constantFrom(
          null,
          '{"type":"connection_init","payload":"x"}',
          '{"type":"connection_init","payload":[1]}',
          '{"type":"connection_init","payload":1}',
          '{"type":"connection_init","payload":{"authorization":123}}',
          '{"type":"connection_init","payload":{"authorization":{"a":1}}}',
          '{"type":"connection_init","payload":{"authorization":["Bearer x"]}}',
          '{"type":"connection_init","payload":{"authorization":"Bearer \\u0000"}}',
          '{"type":"connection_init","payload":{"authorization":"Bearer \\ud800"}}',
          '{"type":"connection_init","payload":{"token":123}}',
          `{"type":"connection_init","payload":{"token":${JSON.stringify(w.tokens.user)}}}`,
          `{"type":"connection_init","payload":{"token":${JSON.stringify(w.tokens.expired)}}}`,
          `{"type":"connection_init","payload":{"authorization":${JSON.stringify(`Bearer ${w.tokens.admin}`)},"token":"x"}}`,
          '{"type":"connection_init","payload":{"__proto__":{"authorization":"x"}}}',
          '{"type":"connection_init"}',
        ),
        fc.boolean(),
        fc.constantFrom('{ me { handle role } }', '{ jobs { name } }', 'mutation { walletChallenge(address: "0x0") { message } }', 'subscription { myRewardUpdated { id } }'),
      )
      .map(([init, twice, query]) => {
        const frames: string[] = [];
        if (twice) frames.push('{"type":"connection_init","payload":{}}');
        frames.push(subscribe('1', JSON.stringify({ query })));
        return { label: 'connection_init', query, frames: frames as (string | Buffer)[], options: { init, awaitIds: query.startsWith('subscription') ? [] : ['1'] } as FrameOptions };
      }),
    // Other subprotocols.
    fc.constantFrom<string | null>(null, 'graphql-ws', 'nope', 'GRAPHQL-TRANSPORT-WS').map((protocol) => ({
      label: 'subprotocol',
      query: '{ __typename }',
      frames: [subscribe('1', '{"query":"{ __typename }"}')] as (string | Buffer)[],
      options: { protocol, awaitIds: ['1'] } as FrameOptions,
    })),
    // A frame over MAX_BODY_BYTES.
    fc.integer({ min: 100_001, max: 130_000 }).map((n) => ({
      label: 'oversized frame',
      query: '{ __typename }',
      frames: [subscribe('1', JSON.stringify({ query: `{ __typename } # ${'x'.repeat(n)}` }))] as (string | Buffer)[],
      options: { awaitIds: ['1'] } as FrameOptions,
    })),
    // One operation more than a socket may run (WS_MAX_SUBSCRIPTIONS_PER_SOCKET = 100).
    fc.constant<Scenario>({
      label: 'too many operations',
      query: 'subscription { caseOpened { id } }',
      frames: Array.from({ length: 101 }, (_, i) => subscribe(`s${i}`, '{"query":"subscription { caseOpened { id } }"}')) as (string | Buffer)[],
      options: { awaitIds: ['s100'] } as FrameOptions,
    }),
  );

  return fc.tuple(identity, scenario).map(([auth, s]) =>
    described({
      op: { label: `frames: ${s.label}`, as: auth.as, auth: auth.auth, transport: 'ws', query: s.query },
      frames: s.frames,
      options: s.options,
    }),
  );
}
