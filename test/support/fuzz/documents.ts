import fc from 'fast-check';
import { getNamedType, isInterfaceType, isObjectType, type GraphQLField, type GraphQLNamedType, type GraphQLSchema } from 'graphql';
import {
  authFor,
  fieldOperations,
  rootFields,
  sometimes,
  withDescription,
  type Identity,
  type Kind,
  type Op,
  type Pools,
  type Selections,
  type Transport,
} from './operations.js';
import { hostileShortText, hostileText } from './values.js';

const IDENTITIES: Identity[] = ['anonymous', 'user', 'admin'];
const ALL_TRANSPORTS: Transport[] = ['post', 'post-http', 'get', 'get-http', 'sse', 'ws'];

const LEAVES = ['__typename', 'badges { key }', 'chain { chainId }', 'me { handle }', 'leaderboard(period: ALL_TIME) { rank }', 'cases(first: 1) { edges { cursor } }'];

/** A path down the schema through object fields, as deep as asked (or until a leaf). */
function deepSelection(schema: GraphQLSchema, choices: number[]): string {
  let type: GraphQLNamedType = schema.getQueryType()!;
  const opened: string[] = [];
  for (const choice of choices) {
    if (isInterfaceType(type)) {
      const possible = schema.getPossibleTypes(type);
      const next = possible[choice % possible.length]!;
      opened.push(`... on ${next.name} {`);
      type = next;
      continue;
    }
    if (!isObjectType(type)) break;
    const objects: GraphQLField<unknown, unknown>[] = Object.values(type.getFields()).filter((f) => {
      const named = getNamedType(f.type);
      return isObjectType(named) || isInterfaceType(named);
    });
    if (objects.length === 0) break;
    const field: GraphQLField<unknown, unknown> = objects[choice % objects.length]!;
    const required = field.args.filter((a) => String(a.type).endsWith('!'));
    const args = required.map((a) => `${a.name}: ${a.name === 'period' ? 'ALL_TIME' : a.name === 'name' ? 'BADGES' : '"x"'}`);
    opened.push(`${field.name}${args.length ? `(${args.join(', ')})` : ''} {`);
    type = getNamedType(field.type);
  }
  return `{ ${opened.join(' ')} __typename ${'}'.repeat(opened.length)} }`;
}

/** Edits that break a valid document in small ways. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom('{', '}', '(', ')', '$', '"', '...', '@', ':', '!', '[', ']', '#', '\u0000', '\ud800', 'query', ' x ', '=', ','), hostileShortText) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.nat(40) }),
);

function applyEdits(query: string, edits: { kind: string; at: number; text?: string; length?: number }[]): string {
  let q = query;
  for (const e of edits) {
    const at = q.length ? e.at % (q.length + 1) : 0;
    if (e.kind === 'truncate') q = q.slice(0, at);
    else if (e.kind === 'delete') q = q.slice(0, at) + q.slice(at + 1);
    else if (e.kind === 'insert') q = q.slice(0, at) + (e.text ?? '') + q.slice(at);
    else q = q.slice(0, at) + q.slice(at, at + (e.length ?? 0)) + q.slice(at);
  }
  return q;
}

/** Documents a client gets wrong, or writes to hurt: each with the query text it sends. */
function hostileQueries(schema: GraphQLSchema): fc.Arbitrary<{ label: string; query: string; operationName?: string | undefined; variables?: string | undefined }> {
  const leaf = fc.constantFrom(...LEAVES);
  return fc.oneof(
    // Nesting around the depth limit (12), through any path of the schema.
    fc.array(fc.nat(), { minLength: 4, maxLength: 30 }).map((choices) => ({ label: 'deep', query: deepSelection(schema, choices) })),
    // Aliases around the limit (15).
    fc.tuple(fc.integer({ min: 10, max: 40 }), leaf).map(([n, l]) => ({ label: 'aliases', query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${l}`).join(' ')} }` })),
    // Tokens around the limit (2,000).
    fc.integer({ min: 1900, max: 2600 }).map((n) => ({ label: 'tokens', query: `{ badges { ${'key '.repeat(n)}} }` })),
    // Cost around the limit (10,000).
    fc.integer({ min: 1, max: 16 }).map((n) => ({
      label: 'cost',
      query: `{ ${Array.from({ length: n }, (_, i) => `c${i}: cases(first: 100) { edges { node { arguments(first: 100) { edges { node { author { handle } } } } } } }`).join(' ')} }`,
    })),
    // Directives: repeated (limit 20), unknown, misused.
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom('@skip(if: false)', '@include(if: true)', '@nosuch', '@skip', '@include(if: "yes")', '@skip(if: $undefined)', '@deprecated', '@skip(if: null)')).map(([n, d]) => ({
      label: 'directives',
      query: `{ __typename ${`${d} `.repeat(n)}}`,
    })),
    fc.constantFrom(
      // Fragments.
      'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }',
      'query { ...A } fragment A on Query { ...A }',
      '{ ...Nope }',
      '{ __typename } fragment A on Query { __typename }',
      '{ ... on Mutation { __typename } }',
      '{ ...A } fragment A on Nope { x }',
      '{ ...A } fragment A on Case { id }',
      '{ node(id: "x") { ... on Badge { key } } }',
      // Variables.
      'query ($a: Int) { __typename }',
      '{ cases(first: $x) { edges { cursor } } }',
      'query ($a: Int, $a: Int) { cases(first: $a) { edges { cursor } } }',
      'query ($a: Nope) { __typename }',
      'query ($a: Int = "x") { cases(first: $a) { edges { cursor } } }',
      'query ($a: [[Int]]) { cases(first: $a) { edges { cursor } } }',
      'query ($a: Int = $b) { cases(first: $a) { edges { cursor } } }',
      'query ($a: CredentialsInput) { __typename }',
      'mutation ($i: CredentialsInput!) { signIn(input: $i) { token } }',
      // Several operations.
      'query A { __typename } query B { __typename }',
      'query A { __typename } mutation A { __typename }',
      '{ a: __typename } query B { __typename }',
      'query A { __typename } subscription B { caseOpened { id } }',
      // Subscriptions with more than one root field, or none.
      'subscription { caseOpened { id } caseClosed { id } }',
      'subscription { __typename }',
      'subscription { caseOpened { id } ...F } fragment F on Subscription { caseClosed { id } }',
      // Introspection.
      '{ __schema { queryType { name } types { name kind } } }',
      '{ __type(name: "Case") { name fields { name args { name type { name } } } } }',
      '{ __type(name: "\\u0000") { name } }',
      '{ __type(name: "") { name } }',
      '{ __type { name } }',
      // Literals of every wrong shape.
      '{ cases(first: 0x10) { edges { cursor } } }',
      '{ cases(first: 01) { edges { cursor } } }',
      '{ cases(first: NaN) { edges { cursor } } }',
      '{ cases(first: Infinity) { edges { cursor } } }',
      '{ cases(first: 1e999) { edges { cursor } } }',
      '{ cases(first: -) { edges { cursor } } }',
      '{ cases(first: .5) { edges { cursor } } }',
      '{ cases(first: 99999999999999999999) { edges { cursor } } }',
      '{ cases(status: "OPEN") { edges { cursor } } }',
      '{ cases(status: open) { edges { cursor } } }',
      '{ cases(first: 1, first: 2) { edges { cursor } } }',
      '{ node(id: 1) { id } }',
      '{ node(id: -1) { id } }',
      '{ node(id: 1.5) { id } }',
      '{ node(id: true) { id } }',
      '{ node(id: [1]) { id } }',
      '{ node(id: {a: 1}) { id } }',
      '{ node(id: null) { id } }',
      '{ node { id } }',
      '{ case(id: "\\uD800") { id } }',
      '{ case(id: "\\x00") { id } }',
      '{ case(id: "\\u0000") { id } }',
      '{ case(id: "abc) { id } }',
      '{ case(id: """abc) { id } }',
      '{ case(id: """\\u0000""") { id } }',
      '{ user(handle: "\\u0000") { id } }',
      '{ leaderboard(period: ALL_TIME, first: 2147483648) { rank } }',
      '{ leaderboard(period: ALL_TIME, first: 0) { rank } }',
      '{ leaderboard(period: ALL_TIME, first: null) { rank } }',
      '{ leaderboard(period: NOPE) { rank } }',
      'mutation { signUp(input: { handle: "a", handle: "b", password: "xxxxxxxxxxxx" }) { token } }',
      'mutation { signUp(input: null) { token } }',
      'mutation { createCase(input: {}) { id } }',
      'mutation { castVote(caseId: "x", side: C) { id } }',
      'mutation { runJob(name: "BADGES") { id } }',
      'mutation { runJob(name: badges) { id } }',
      // Syntax.
      '',
      ' ',
      '#',
      '# only a comment',
      '{',
      '}',
      '{}',
      '{ }',
      'query',
      'query {',
      'mutation',
      'mutation { }',
      'subscription {}',
      '\ufeff{ __typename }',
      '{ cåses { id } }',
      '{ __typename @ }',
      '{ a: b: c }',
      'fragment',
      '{ ... }',
      '{ ...on }',
      'query ($) { __typename }',
      '{ cases(first: ) { edges { cursor } } }',
      '{ __typename \u0000 }',
      '{ __typename \ud800 }',
      '{ nosuchfield }',
      '{ cases { nosuch } }',
      '{ me { password passwordHash ledgerSalt } }',
      '{ case(id: "x") { ruling { salt } } }',
      '{ badges }',
      '{ __typename { x } }',
      'Query { __typename }',
      '{ __typename } }',
      '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{',
    ).map((query) => ({ label: 'fixed', query })),
    // Operation names and documents that do not match.
    fc.tuple(fc.constantFrom('query A { __typename } query B { badges { key } }', 'query A { __typename }', '{ __typename }', 'mutation M { signIn(input: {handle: "x", password: "y"}) { token } } query Q { __typename }'), fc.option(fc.oneof(fc.constantFrom('A', 'B', 'C', 'M', 'Q', ''), hostileShortText), { nil: undefined })).map(
      ([query, operationName]) => ({ label: 'operationName', query, operationName }),
    ),
    // Random text and random names.
    hostileText.map((query) => ({ label: 'text', query })),
    fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((name) => ({ label: 'name', query: `{ ${name} }` })),
  );
}

/** Whole request bodies that are not what GraphQL over HTTP expects. */
const hostileBodies: fc.Arbitrary<{ label: string; body: string; contentType?: string | undefined; accept?: string | undefined }> = fc.oneof(
  fc
    .constantFrom(
      '',
      'not json',
      '{bad',
      'null',
      '[]',
      '123',
      'true',
      '"{ __typename }"',
      '[{"query":"{ __typename }"},{"query":"{ badges { key } }"}]',
      '{}',
      '{"query":123}',
      '{"query":null}',
      '{"query":{}}',
      '{"query":["{ __typename }"]}',
      '{"query":true}',
      '{"variables":{}}',
      '{"query":"{ __typename }","variables":"{}"}',
      '{"query":"{ __typename }","variables":"{bad"}',
      '{"query":"{ __typename }","variables":[]}',
      '{"query":"{ __typename }","variables":1}',
      '{"query":"{ __typename }","variables":null}',
      '{"query":"{ __typename }","operationName":1}',
      '{"query":"{ __typename }","operationName":{}}',
      '{"query":"{ __typename }","operationName":null}',
      '{"query":"{ __typename }","extensions":"x"}',
      '{"query":"{ __typename }","extensions":[]}',
      '{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}',
      '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}',
      '{"query":"{ nosuch }","query":"{ __typename }"}',
      '\ufeff{"query":"{ __typename }"}',
      '{"query":"query ($a: Int) { cases(first: $a) { edges { cursor } } }","variables":{"__proto__":{"a":1}}}',
      '{"query":"query ($a: Int) { cases(first: $a) { edges { cursor } } }","variables":{"a":1e999}}',
      '{"query":"query ($a: Int) { cases(first: $a) { edges { cursor } } }","variables":{"a":-0}}',
      '{"query":"query ($a: Int) { cases(first: $a) { edges { cursor } } }","variables":{"a":"1"}}',
      '{"query":"query ($a: ID!) { node(id: $a) { id } }","variables":{"a":12345678901234567890}}',
      '{"query":"query ($a: ID!) { node(id: $a) { id } }","variables":{"a":{"toString":"x"}}}',
      '{"query":"query ($a: String!) { user(handle: $a) { id } }","variables":{"a":"\\ud800"}}',
      '{"query":"query ($a: String!) { user(handle: $a) { id } }","variables":{"a":"\\u0000"}}',
      '{"query":"query ($a: String!) { user(handle: $a) { id } }","variables":{"\\u0000":"x","a":"x"}}',
      '{"query":"{ __typename }"',
    )
    .map((body) => ({ label: 'body', body })),
  // JSON nested deeper than any parser likes (bodies stay under MAX_BODY_BYTES).
  fc.tuple(fc.constantFrom(10, 1000, 5000, 20_000, 45_000), fc.constantFrom('variables', 'extensions')).map(([n, key]) => ({
    label: `nested ${key}`,
    body: `{"query":"query ($a: Int) { __typename }","${key}":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`,
  })),
  // Content types and accepts: only JSON bodies run (the rest are refused before yoga).
  fc.tuple(
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/jsonx', 'application/graphql+json', 'application/graphql-response+json', ''),
    fc.option(fc.constantFrom('application/graphql-response+json', 'application/json', '*/*', 'application/xml', 'text/event-stream', 'multipart/mixed', ''), { nil: undefined }),
    fc.constantFrom('{"query":"{ __typename }"}', '{"query":"mutation { signUp(input: {handle: \\"ct_user\\", password: \\"a long enough password\\"}) { token } }"}', 'query=%7B__typename%7D'),
  ).map(([contentType, accept, body]) => ({ label: 'content type', body, contentType, accept })),
);

/** Percent-encodes the UTF-8 bytes of any string (a lone surrogate becomes U+FFFD's bytes). */
const percentEncode = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** GET query strings: parameters missing, repeated, or not JSON where JSON is expected. */
const hostileSearch: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('query=%7B__typename%7D', 'query=', '', 'query=%7B__typename%7D&query=%7Bbadges%7Bkey%7D%7D', 'query=mutation%7BrunJob(name%3ABADGES)%7Bid%7D%7D', 'query=subscription%7BcaseOpened%7Bid%7D%7D', 'query=%7B', 'query=%00', 'query=%ED%A0%80', 'query=%FF'),
    fc.array(
      fc.tuple(
        fc.constantFrom('variables', 'extensions', 'operationName', 'query', 'x'),
        fc.oneof(
          fc.constantFrom('%7Bbad', '%5B', 'NaN', '%7B%22a%22%3A1%7Dx', '', 'null', '%5B%5D', '1', '%22s%22', '%7B%22a%22%3A%7B%22b%22%3A%5B', '%7B%7D', '%00', '%ED%A0%80', '%7B%22__proto__%22%3A%7B%7D%7D'),
          hostileShortText.map(percentEncode),
        ),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([first, rest]) => [first, ...rest.map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('&'));

/**
 * Documents, bodies and GET parameters a client gets wrong or writes to hurt, over every
 * transport, as every identity: one arbitrary per category, each its own property.
 */
export function documentCategories(schema: GraphQLSchema, pools: Pools, selections: Selections): Record<string, fc.Arbitrary<Op>> {
  const fields = (['query', 'mutation', 'subscription'] as Kind[]).flatMap((kind) => rootFields(schema, kind).map((field) => ({ kind, field })));
  const identity = fc.constantFrom(...IDENTITIES).chain((as) => authFor(pools.world, as));
  const anyTransport = fc.constantFrom(...ALL_TRANSPORTS);
  return {
    // Valid operations on every root field, broken by small edits.
    'edited operations': fc
      .tuple(
        fc.constantFrom(...fields).chain(({ kind, field }) => fc.constantFrom(...IDENTITIES).chain((as) => fieldOperations(schema, pools, selections, kind, field, as))),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
      )
      .map(([op, edits]) => withDescription({ ...op, label: `${op.label} (edited)`, query: applyEdits(op.query ?? '', edits) })),
    'hostile documents': fc
      .tuple(identity, anyTransport, hostileQueries(schema))
      .map(([auth, transport, q]) => withDescription({ label: `document: ${q.label}`, as: auth.as, auth: auth.auth, transport, query: q.query, operationName: q.operationName, variables: q.variables })),
    // POST bodies (over WebSocket the same text is the subscribe payload).
    'hostile bodies': fc
      .tuple(identity, fc.constantFrom<Transport>('post', 'post-http', 'post-http', 'ws'), hostileBodies)
      // Content types are checked in front of yoga, by the HTTP server: only a real socket sees that.
      .map(([auth, transport, b]) =>
        withDescription({ label: `body: ${b.label}`, as: auth.as, auth: auth.auth, transport: b.contentType !== undefined ? 'post-http' : transport, rawBody: b.body, contentType: b.contentType, accept: b.accept }),
      ),
    'GET parameters': fc
      .tuple(identity, fc.constantFrom<Transport>('get', 'get-http'), hostileSearch, fc.option(fc.constantFrom('application/graphql-response+json', '*/*', 'application/json, text/plain'), { nil: undefined }))
      .map(([auth, transport, search, accept]) => withDescription({ label: 'GET parameters', as: auth.as, auth: auth.auth, transport, search, accept })),
    // Subscriptions over POST and GET, mutations over GET.
    'operations over the wrong transport': fc
      .tuple(fc.constantFrom(...fields.filter((f) => f.kind !== 'query')), fc.constantFrom(...IDENTITIES))
      .chain(([{ kind, field }, as]) => fc.tuple(fieldOperations(schema, pools, selections, kind, field, as), kind === 'mutation' ? fc.constantFrom<Transport>('get', 'get-http') : fc.constantFrom<Transport>('get', 'get-http', 'post', 'post-http')))
      .map(([op, transport]) => withDescription({ ...op, label: `${op.label} over ${transport}`, transport })),
    // Operation names that match nothing, extensions of any shape.
    'operation names and extensions': fc
      .tuple(
        identity,
        anyTransport,
        fc.constantFrom(...LEAVES, 'query A { __typename }', 'query A { __typename } query B { badges { key } }'),
        sometimes(fc.oneof(fc.constantFrom('A', 'B', 'Nope', ''), hostileShortText), 2),
        sometimes(fc.constantFrom('{}', '[]', '"x"', '1', 'null', '{"a":{"b":{"c":[]}}}', '{"persistedQuery":null}', '{"persistedQuery":{"version":1,"sha256Hash":"00"}}'), 2),
      )
      .map(([auth, transport, leaf, operationName, extensions]) =>
        withDescription({ label: 'operation name and extensions', as: auth.as, auth: auth.auth, transport, query: leaf.startsWith('query') ? leaf : `{ ${leaf} }`, operationName, extensions }),
      ),
  };
}
