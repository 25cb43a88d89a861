import fs from 'node:fs';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import {
  addressText,
  anyValue,
  hostileIntText,
  hostileText,
  json,
  literal,
  malformedToken,
  prose,
  uuid,
  vEnum,
  vNull,
  vNum,
  vStr,
  globalId,
  type V,
} from './values.js';
import type { World } from './world.js';

export type Kind = 'query' | 'mutation' | 'subscription';
export type Identity = 'anonymous' | 'user' | 'admin';
/** post/get: yoga.fetch; post-http/get-http: a real socket; sse: POST answered as Server-Sent Events; ws: graphql-ws. */
export type Transport = 'post' | 'post-http' | 'get' | 'get-http' | 'sse' | 'ws';

/** One operation, exactly as it goes on the wire. */
export interface Op {
  label: string;
  as: Identity;
  /** The Authorization value (HTTP) or connection param (WebSocket); null: none. */
  auth: string | null;
  transport: Transport;
  /** Absent: no query at all. */
  query?: string | undefined;
  /** JSON text (a GET parameter may be anything). */
  variables?: string | undefined;
  operationName?: string | undefined;
  extensions?: string | undefined;
  /** GET only: the whole query string, instead of one built from the fields above. */
  search?: string | undefined;
  /** POST only: the whole body, instead of one built from the fields above. */
  rawBody?: string | undefined;
  contentType?: string | undefined;
  accept?: string | undefined;
}

export const SCHEMA_FILE = new URL('../../../schema.graphql', import.meta.url);

export function loadSchema(): GraphQLSchema {
  return buildSchema(fs.readFileSync(SCHEMA_FILE, 'utf8'));
}

export function rootFields(schema: GraphQLSchema, kind: Kind): GraphQLField<unknown, unknown>[] {
  const root = kind === 'query' ? schema.getQueryType() : kind === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  return Object.values(root?.getFields() ?? {});
}

/** A readable form for fast-check's counterexample report. */
export function describeOp(op: Op): string {
  const lines = [`${op.transport} as ${op.as}${op.auth ? ` (authorization: ${JSON.stringify(op.auth.length > 60 ? `${op.auth.slice(0, 60)}…` : op.auth)})` : ''} [${op.label}]`];
  const clip = (s: string) => (s.length > 3000 ? `${s.slice(0, 3000)}… (${s.length} chars)` : s);
  if (op.search !== undefined) lines.push(`  ?${clip(op.search)}`);
  if (op.rawBody !== undefined) lines.push(`  body: ${clip(JSON.stringify(op.rawBody))}`);
  if (op.query !== undefined) lines.push(`  query: ${clip(JSON.stringify(op.query))}`);
  if (op.variables !== undefined) lines.push(`  variables: ${clip(op.variables)}`);
  if (op.operationName !== undefined) lines.push(`  operationName: ${JSON.stringify(op.operationName)}`);
  if (op.extensions !== undefined) lines.push(`  extensions: ${clip(op.extensions)}`);
  if (op.contentType !== undefined) lines.push(`  content-type: ${op.contentType}`);
  if (op.accept !== undefined) lines.push(`  accept: ${op.accept}`);
  return lines.join('\n');
}

export const withDescription = (op: Op): Op =>
  Object.defineProperty(op, fc.toStringMethod, { value: () => `\n${describeOp(op)}\n`, enumerable: false });

/** `arb` about once in `oneIn` draws, else undefined. */
export const sometimes = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** `arb` most of the time: absent about once in `oneIn` draws. */
export const mostly = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: oneIn - 1, arbitrary: arb });

// ---------------------------------------------------------------------------------------------
// Plausible values, from the world's pools

export class Pools {
  constructor(readonly world: World) {}

  private pick<T>(values: T[]): fc.Arbitrary<T> {
    return fc.constantFrom(...values);
  }

  /** Real ids where they belong, in every accepted spelling. */
  caseId(): fc.Arbitrary<string> {
    const all = [...this.world.cases.open, ...this.world.cases.closed, ...this.world.cases.pending];
    return fc.oneof(
      this.pick(all.map((c) => c.id)),
      this.pick(all.map((c) => c.globalId)),
      this.pick(all.map((c) => c.id.toUpperCase())),
    );
  }

  /** Real rows' ids of every other kind, and real uuids under the wrong type. */
  foreignId(): fc.Arbitrary<string> {
    const w = this.world;
    const uuids = [...w.arguments.map((a) => a.id), w.user.id, w.admin.id, ...w.voteIds, ...w.rewardIds, ...w.jobRunIds, ...w.cases.open.map((c) => c.id)];
    return fc.oneof(
      this.pick([...w.arguments.map((a) => a.globalId), w.user.globalId, w.admin.globalId, ...w.others.map((o) => o.globalId)]),
      fc.tuple(this.pick(['Case', 'Argument', 'User', 'Vote', 'Reward', 'JobRun', 'Badge', 'BadgeAward', 'Node', 'Query', 'Mutation', 'LeaderboardEntry']), this.pick(uuids)).map(([type, id]) => globalId(type, id)),
      this.pick(uuids),
      uuid,
      malformedToken,
    );
  }

  argumentId(): fc.Arbitrary<string> {
    return fc.oneof(this.pick(this.world.arguments.map((a) => a.id)), this.pick(this.world.arguments.map((a) => a.globalId)));
  }

  nodeId(): fc.Arbitrary<string> {
    const w = this.world;
    return fc.oneof(this.caseId(), this.argumentId(), this.pick([w.user.globalId, w.admin.globalId, ...w.others.map((o) => o.globalId), ...w.notificationIds]), this.foreignId());
  }

  rewardId(): fc.Arbitrary<string> {
    return fc.oneof({ weight: 2, arbitrary: this.pick(this.world.rewardIds) }, { weight: 1, arbitrary: fc.constant(this.world.failedRewardId) });
  }

  /** Cursors of every connection: each is foreign to all lists but its own. */
  cursor(): fc.Arbitrary<string> {
    const c = this.world.cursors;
    const all = [...c.cases, ...c.casesOpen, ...c.casesClosed, ...c.arguments, ...c.rewards, ...c.notifications];
    return fc.oneof({ weight: 3, arbitrary: this.pick(all) }, { weight: 2, arbitrary: malformedToken });
  }

  handle(): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 3, arbitrary: this.pick(this.world.handles) },
      { weight: 1, arbitrary: this.pick(this.world.handles).map((h) => `  ${h.toUpperCase()} `) },
      { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9_]{3,32}$/) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_ .-]{0,40}$/) },
      { weight: 1, arbitrary: fc.constantFrom('İİİ', 'ǅǅǅ', 'ab', 'a'.repeat(33), '___', 'ﬃﬃﬃ', 'ＡＢＣ') },
    );
  }

  password(): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 2, arbitrary: fc.constant(this.world.known.password) },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 24 }) },
      { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }).map((n) => 'p'.repeat(n)) },
      { weight: 1, arbitrary: fc.constantFrom('', 'short', 'ﬃﬃﬃﬃﬃﬃﬃﬃﬃﬃ', '\u00a0'.repeat(12)) },
    );
  }

  walletMessage(): fc.Arbitrary<string> {
    const messages = this.world.wallets.map((w) => w.message);
    return fc.oneof(
      { weight: 3, arbitrary: this.pick(messages) },
      {
        weight: 2,
        arbitrary: fc.tuple(this.pick(messages), fc.nat(12), fc.oneof(hostileText, fc.constantFrom('', 'evil.example', 'Chain ID: 1', 'Version: 2', 'Nonce: 00', 'Issued At: 1970-01-01T00:00:00Z', 'Expiration Time: 2000-01-01T00:00:00.000Z', 'Not Before: 2999-01-01T00:00:00.000Z'))).map(([m, line, replacement]) => {
          const lines = m.split('\n');
          lines[line % lines.length] = replacement;
          return lines.join('\n');
        }),
      },
      { weight: 1, arbitrary: hostileText },
    );
  }

  signature(): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 3, arbitrary: this.pick(this.world.wallets.map((w) => w.signature)) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 65, maxLength: 65 }).map((b) => `0x${Buffer.from(b).toString('hex')}`) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 70 }).map((b) => `0x${Buffer.from(b).toString('hex')}`) },
      { weight: 1, arbitrary: hostileText },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Argument values

/** A UTC day as YYYY-MM-DD (recent, far, or impossible), or something that only looks like one. */
const dayText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -400, max: 3 }).map((offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)) },
  { weight: 1, arbitrary: fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('2024-02-30', '2023-02-29', '0000-00-00', '9999-12-31', '+275760-09-13', '2024-1-1', '2024-01-01T00:00:00Z', '20240101', '', 'today', '1970-01-01', '-000001-01-01'),
  },
  { weight: 1, arbitrary: hostileText },
);

/** What a named argument or input field plausibly holds, as a string arbitrary; null: no idea. */
function plausibleString(pools: Pools, owner: string, name: string): fc.Arbitrary<string> | null {
  switch (`${owner}.${name}`) {
    case 'Query.node.id':
      return pools.nodeId();
    case 'Mutation.upvoteArgument.argumentId':
      return pools.argumentId();
    case 'Mutation.retryReward.id':
      return pools.rewardId();
    case 'Mutation.walletChallenge.address':
      return addressText;
    case 'Mutation.connectWallet.message':
      return pools.walletMessage();
    case 'Mutation.connectWallet.signature':
      return pools.signature();
    case 'CreateCaseInput.title':
      return prose(5, 140);
    case 'CreateCaseInput.dilemma':
      return prose(200, 5000);
    case 'CreateCaseInput.sideA':
    case 'CreateCaseInput.sideB':
      return fc.oneof(prose(1, 60), fc.constantFrom('Keep it', 'keep it', 'Tell', 'A', 'B'));
    case 'CredentialsInput.password':
      return pools.password();
    case 'Mutation.submitArgument.body':
      return prose(20, 2000);
  }
  if (name === 'caseId' || ((owner === 'Query.case' || owner === 'Subscription.caseUpdated') && name === 'id')) return fc.oneof({ weight: 3, arbitrary: pools.caseId() }, { weight: 1, arbitrary: pools.foreignId() });
  if (name === 'after' || name === 'before') return pools.cursor();
  if (name === 'day' || name === 'from' || name === 'to') return dayText;
  if (name === 'handle' || name === 'userHandle') return pools.handle();
  return null;
}

function plausibleInt(name: string): fc.Arbitrary<string> | null {
  if (name === 'first' || name === 'last') {
    return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) }, { weight: 2, arbitrary: fc.constantFrom('-1', '-5', '100', '101', '1') }, { weight: 1, arbitrary: hostileIntText });
  }
  return null;
}

/**
 * A value for an input position: mostly what belongs there (real ids, plausible text), often a
 * hostile value of the right type (NUL, lone surrogates, huge or negative numbers, foreign or
 * malformed ids and cursors), sometimes a value of the wrong type or null.
 */
export function inputValue(pools: Pools, type: GraphQLInputType, owner: string, name: string, depth = 0): fc.Arbitrary<V> {
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  let right: fc.Arbitrary<V>;
  if (isListType(inner)) {
    right = fc.array(inputValue(pools, inner.ofType, owner, name, depth + 1), { maxLength: 3 }).map((v): V => ({ t: 'list', v }));
  } else if (isInputObjectType(inner)) {
    const fields = Object.values(inner.getFields());
    right = fc
      .tuple(
        fc.tuple(...fields.map((f) => mostly(inputValue(pools, f.type, inner.name, f.name, depth + 1), 12))),
        sometimes(fc.tuple(fc.constantFrom('extra', 'id', 'role', '__proto__', 'handle', 'Title'), anyValue), 8),
      )
      .map(([values, extra]): V => {
        const entries: [string, V][] = [];
        fields.forEach((f, i) => values[i] !== undefined && entries.push([f.name, values[i]!]));
        if (extra) entries.push(extra);
        return { t: 'obj', v: entries };
      });
  } else if (isEnumType(inner)) {
    const names = inner.getValues().map((v) => v.name);
    right = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...names).map(vEnum) },
      { weight: 1, arbitrary: fc.constantFrom(...names).map((n) => vEnum(n.toLowerCase())) },
      { weight: 1, arbitrary: fc.constantFrom(...names, 'NOPE').map(vStr) },
    );
  } else if (isScalarType(inner) && inner.name === 'Int') {
    const plausible = plausibleInt(name);
    right = (plausible ? fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: hostileIntText }) : hostileIntText).map(vNum);
  } else if (isScalarType(inner) && inner.name === 'Boolean') {
    right = fc.boolean().map((v): V => ({ t: 'bool', v }));
  } else {
    // String, ID (and any custom scalar): text. An ID may also come as an Int literal.
    const plausible = plausibleString(pools, owner, name);
    const text = plausible ? fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: hostileText }) : hostileText;
    right = fc.oneof(
      { weight: 12, arbitrary: text.map(vStr) },
      { weight: 1, arbitrary: text.map((v): V => ({ t: 'str', v, block: true })) },
      ...(isScalarType(inner) && inner.name === 'ID' ? [{ weight: 1, arbitrary: hostileIntText.map(vNum) }] : []),
    );
  }
  return fc.oneof(
    { weight: depth > 0 ? 10 : 16, arbitrary: right },
    { weight: 1, arbitrary: depth > 1 ? fc.constant(vNull) : anyValue },
    { weight: 1, arbitrary: fc.constant(vNull) },
  );
}

// ---------------------------------------------------------------------------------------------
// Selections

const LEAF_FALLBACK = '__typename';

/** Selections of a type, up to `depth` levels of objects below it. Memoized per type and depth. */
export class Selections {
  private memo = new Map<string, fc.Arbitrary<string>>();
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly pools: Pools,
  ) {}

  of(type: GraphQLNamedType, depth: number): fc.Arbitrary<string> {
    const key = `${type.name}:${depth}`;
    let arb = this.memo.get(key);
    if (!arb) {
      arb = this.build(type, depth);
      this.memo.set(key, arb);
    }
    return arb;
  }

  private fieldArgs(owner: string, args: readonly GraphQLArgument[]): fc.Arbitrary<string> {
    if (args.length === 0) return fc.constant('');
    return fc
      .tuple(...args.map((a) => mostly(inputValue(this.pools, a.type, owner, a.name, 1), isNonNullType(a.type) ? 20 : 2)))
      .map((values) => {
        const parts = args.flatMap((a, i) => (values[i] === undefined ? [] : [`${a.name}: ${literal(values[i]!)}`]));
        return parts.length ? `(${parts.join(', ')})` : '';
      });
  }

  private build(type: GraphQLNamedType, depth: number): fc.Arbitrary<string> {
    if (isLeafType(type)) return fc.constant('');
    if (isInterfaceType(type)) {
      const implementations = this.schema.getPossibleTypes(type);
      return fc
        .tuple(
          fc.subarray(['__typename', 'id']),
          depth > 0 ? fc.subarray(implementations.map((t) => t.name), { maxLength: 2 }) : fc.constant([] as string[]),
        )
        .chain(([leaves, names]) =>
          fc.tuple(...names.map((n) => this.of(this.schema.getType(n)!, depth - 1).map((s) => `... on ${n} ${s}`))).map((fragments) => {
            const parts = [...leaves, ...fragments];
            return `{ ${parts.length ? parts.join(' ') : LEAF_FALLBACK} }`;
          }),
        );
    }
    if (!isObjectType(type)) return fc.constant(`{ ${LEAF_FALLBACK} }`);
    const fields = Object.values(type.getFields()).filter((f) => depth > 0 || isLeafType(getNamedType(f.type)));
    const pickOne = (f: GraphQLField<unknown, unknown>): fc.Arbitrary<string> => {
      const named = getNamedType(f.type);
      return fc
        .tuple(
          sometimes(fc.constantFrom('a', 'b', 'x1', 'alias_'), 6),
          this.fieldArgs(`${type.name}.${f.name}`, f.args),
          isLeafType(named) ? fc.constant('') : this.of(named, depth - 1),
        )
        .map(([alias, args, sub]) => `${alias ? `${alias}: ` : ''}${f.name}${args}${sub ? ` ${sub}` : ''}`);
    };
    const weight = Math.max(2, Math.round(fields.length / 3));
    return fc
      .tuple(
        ...fields.map((f) => fc.oneof({ weight, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: pickOne(f) })),
        sometimes(fc.constantFrom('__typename', 'nosuchfield', 'id', 'handle { x }', '__schema { queryType { name } }'), 25),
      )
      .map((parts) => {
        const chosen = parts.filter((p): p is string => p !== undefined);
        return `{ ${chosen.length ? chosen.join(' ') : fields.find((f) => isLeafType(getNamedType(f.type)))?.name ?? LEAF_FALLBACK} }`;
      });
  }
}

// ---------------------------------------------------------------------------------------------
// Operations on one root field

interface ArgPlan {
  arg: GraphQLArgument;
  present: boolean;
  value: V;
  viaVariable: boolean;
  /** The declared variable type; usually the argument's own. */
  declared: string;
  /** The variable is declared but not sent. */
  unsent: boolean;
  /** A default value on the variable definition. */
  defaultValue: V | undefined;
}

const WRONG_DECLARATIONS = ['Int', 'String', 'String!', 'ID', 'ID!', 'Boolean', 'Float!', '[String!]!', 'Side', 'CreateCaseInput', 'Nope', 'Query'];

function argPlan(pools: Pools, owner: string, arg: GraphQLArgument): fc.Arbitrary<ArgPlan> {
  return fc
    .record({
      present: fc.oneof({ weight: isNonNullType(arg.type) ? 30 : 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      value: inputValue(pools, arg.type, owner, arg.name),
      viaVariable: fc.boolean(),
      declared: fc.oneof({ weight: 14, arbitrary: fc.constant(String(arg.type)) }, { weight: 1, arbitrary: fc.constantFrom(...WRONG_DECLARATIONS) }),
      unsent: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      defaultValue: sometimes(inputValue(pools, arg.type, owner, arg.name, 1), 15),
    })
    .map((p) => ({ arg, ...p }));
}

export interface Auth {
  as: Identity;
  auth: string | null;
}

/** Sessions for an identity; the anonymous one sometimes sends a token that must not count. */
export function authFor(world: World, as: Identity): fc.Arbitrary<Auth> {
  if (as === 'user') return fc.constantFrom<Auth>({ as, auth: `Bearer ${world.tokens.user}` }, { as, auth: `bearer  ${world.tokens.user}` });
  if (as === 'admin') return fc.constant<Auth>({ as, auth: `Bearer ${world.tokens.admin}` });
  const forged = [
    `Bearer ${world.tokens.expired}`,
    `Bearer ${world.tokens.tampered}`,
    `Bearer ${world.tokens.deletedUser}`,
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    `Bearer ${world.tokens.user} extra`,
    'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    `Bearer ${'A'.repeat(5000)}`,
    `${world.tokens.user}`,
  ];
  return fc.oneof({ weight: 4, arbitrary: fc.constant<Auth>({ as, auth: null }) }, { weight: 1, arbitrary: fc.constantFrom(...forged).map((auth): Auth => ({ as, auth })) });
}

/**
 * The transports each kind is served on. Other combinations (subscriptions over POST or GET,
 * mutations over GET) are sent by the document properties.
 */
export const TRANSPORTS: Record<Kind, [Transport, number][]> = {
  query: [['post', 6], ['post-http', 1], ['get', 2], ['get-http', 1], ['sse', 1], ['ws', 4]],
  mutation: [['post', 6], ['post-http', 1], ['sse', 1], ['ws', 4]],
  subscription: [['ws', 4], ['sse', 1]],
};

export const transportArb = (kind: Kind) => fc.oneof(...TRANSPORTS[kind].map(([t, weight]) => ({ weight, arbitrary: fc.constant(t) })));

/**
 * Operations on one root field: its arguments as literals or variables (declared right or wrong,
 * sent or not), a random selection of its result, sometimes aliased, repeated, or beside another
 * field; over a transport the kind allows, as the given identity.
 */
export function fieldOperations(schema: GraphQLSchema, pools: Pools, selections: Selections, kind: Kind, field: GraphQLField<unknown, unknown>, as: Identity): fc.Arbitrary<Op> {
  const owner = `${kind === 'query' ? 'Query' : kind === 'mutation' ? 'Mutation' : 'Subscription'}.${field.name}`;
  const named = getNamedType(field.type);
  const siblings = rootFields(schema, kind).filter((f) => f.name !== field.name && f.args.every((a) => !isNonNullType(a.type)));
  return fc
    .record({
      auth: authFor(pools.world, as),
      transport: transportArb(kind),
      plans: fc.tuple(...field.args.map((a) => argPlan(pools, owner, a))),
      selection: fc.integer({ min: 0, max: 3 }).chain((depth) => selections.of(named, depth)),
      alias: sometimes(fc.constantFrom('r', 'again', 'x_1'), 5),
      copies: fc.oneof({ weight: 25, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 20 }) }),
      sibling: sometimes(fc.constantFrom(...(siblings.length ? siblings.map((f) => f.name) : ['__typename']), '__typename', 'nosuch'), 12),
      operationName: sometimes(fc.constantFrom('Fuzz', 'op_1', 'Other'), 3),
      sendOperationName: fc.boolean(),
      extensions: sometimes(fc.constantFrom('{}', '{"x":[1,{"y":null}]}', 'null'), 15),
    })
    .map(({ auth, transport, plans, selection, alias, copies, sibling, operationName, sendOperationName, extensions }) => {
      const definitions: string[] = [];
      const variables: string[] = [];
      const args: string[] = [];
      plans.forEach((p, i) => {
        if (!p.present) return;
        if (!p.viaVariable) {
          args.push(`${p.arg.name}: ${literal(p.value)}`);
          return;
        }
        const name = `v${i}`;
        definitions.push(`$${name}: ${p.declared}${p.defaultValue ? ` = ${literal(p.defaultValue)}` : ''}`);
        args.push(`${p.arg.name}: $${name}`);
        if (!p.unsent) variables.push(`${JSON.stringify(name)}:${json(p.value)}`);
      });
      const call = `${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection ? ` ${selection}` : ''}`;
      const roots =
        copies === 1 ? [`${alias ? `${alias}: ` : ''}${call}`] : Array.from({ length: copies }, (_, i) => `c${i}: ${call}`);
      if (sibling) roots.push(sibling === '__typename' || sibling === 'nosuch' ? sibling : `${sibling} { __typename }`);
      const header = `${kind}${operationName ? ` ${operationName}` : ''}${definitions.length ? `(${definitions.join(', ')})` : ''}`;
      const query = `${header} { ${roots.join(' ')} }`;
      const sentName = operationName !== undefined && sendOperationName ? operationName : undefined;
      const op: Op = {
        label: `${owner}`,
        as: auth.as,
        auth: auth.auth,
        transport,
        query,
        variables: variables.length || definitions.length ? `{${variables.join(',')}}` : undefined,
        operationName: sentName,
        extensions,
      };
      return withDescription(op);
    });
}
