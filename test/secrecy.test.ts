import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { revealedRulings } from '../src/domain/cases.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { publishUntil } from './support/subscriptions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

// Every way a client could try to read a ruling or its salt before the case closes.

let t: TestApp;
let base: string;
const logLines: string[] = [];
let adminToken: string;
let userToken: string;

beforeAll(async () => {
  t = await createTestApp({ LOG_LEVEL: 'info' }, { logStream: { write: (line) => logLines.push(line) } });
  base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
  adminToken = (await issueSessionToken(t.db, t.sessions, (await createUser(t.db, { role: 'ADMIN' })).id)).token;
  userToken = (await issueSessionToken(t.db, t.sessions, (await createUser(t.db)).id)).token;
});
afterAll(() => t.close());

const RULING_FIELDS = 'ruling { side reasoning salt judge }';

async function sealedCase(status: 'OPEN' | 'PENDING') {
  const c = await createCase(t.db, { status, reasoning: `SECRET-REASONING-${Math.random()}` });
  const secrets = [c.ruling!.reasoning, Buffer.from(c.ruling!.salt).toString('hex')];
  return { c, secrets, globalId: encodeGlobalID('Case', c.id) };
}

async function http(query: string, token?: string) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return response.text();
}

function expectNoSecret(text: string, secrets: string[]) {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe.each(['OPEN', 'PENDING'] as const)('a %s case', (status) => {
  it('hides the ruling from case, node and the cases connection, for anyone, admins included', async () => {
    const { c, secrets, globalId } = await sealedCase(status);
    for (const token of [undefined, userToken, adminToken]) {
      const queries = [
        `{ case(id: "${c.id}") { id ${RULING_FIELDS} } }`,
        `{ case(id: "${globalId}") { id ${RULING_FIELDS} } }`,
        `{ node(id: "${globalId}") { id ... on Case { ${RULING_FIELDS} } } }`,
        `{ cases(status: ${status}, first: 100) { edges { node { id ${RULING_FIELDS} } } } }`,
        `{ cases(first: 100) { edges { node { id ${RULING_FIELDS} } } } }`,
      ];
      for (const query of queries) {
        const text = await http(query, token);
        expectNoSecret(text, secrets);
        expect(text).not.toContain('"errors"');
        // This case's ruling is null wherever it appears (lists also hold other tests' closed cases).
        const data = JSON.parse(text).data;
        const found = [data.case, data.node, ...(data.cases?.edges.map((e: { node: unknown }) => e.node) ?? [])]
          .filter((node: { id?: string } | null) => node?.id === globalId);
        if (status === 'OPEN') expect(found.length).toBeGreaterThan(0); // a PENDING case is not public at all
        for (const node of found) expect(node.ruling).toBeNull();
      }
    }
  });

  it('leaks nothing through errors', async () => {
    const { c, secrets } = await sealedCase(status);
    const attempts = [
      `mutation { castVote(caseId: "${c.id}", side: A) { side } }`,
      `mutation { castVote(caseId: "${c.id}", side: A) { side } }`,
      `mutation { submitArgument(caseId: "${c.id}", side: B, body: "short") { id } }`,
      `{ case(id: "${c.id}") { ruling { salt(format: HEX) } } }`,
      `{ case(id: "${c.id}") { sealedRuling { salt } } }`,
      `{ case(id: "${c.id}") { rulingSide } }`,
    ];
    for (const query of attempts) expectNoSecret(await http(query, userToken), secrets);
  });

  it('leaks nothing through a subscription payload', async () => {
    const { c, secrets } = await sealedCase(status);
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${adminToken}` } });
    try {
      const events = client.iterate({ query: `subscription { caseOpened { id ${RULING_FIELDS} } }` });
      const event = await publishUntil(events.next(), () => t.pubsub.publish('caseOpened', { caseId: c.id }));
      expect(event.value).toEqual({ data: { caseOpened: { id: encodeGlobalID('Case', c.id), ruling: null } } });
      expectNoSecret(JSON.stringify(event), secrets);
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('leaks nothing through caseUpdated, the live counts of one case', async () => {
    const { c, secrets, globalId } = await sealedCase(status);
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${adminToken}` } });
    try {
      const events = client.iterate({ query: `subscription { caseUpdated(id: "${globalId}") { id voteCount ${RULING_FIELDS} } }` });
      const event = await publishUntil(events.next(), () => t.pubsub.publish('caseUpdated', c.id, { caseId: c.id }));
      // A PENDING case is not public: there is nothing to follow yet.
      if (status === 'OPEN') expect(event.value).toEqual({ data: { caseUpdated: { id: globalId, voteCount: 0, ruling: null } } });
      else expect(event.value?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expectNoSecret(JSON.stringify(event), secrets);
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('keeps the sealed ruling in the database: the reveal query returns nothing', async () => {
    const { c } = await sealedCase(status);
    expect(await revealedRulings(t.db, [c.id])).toEqual([]);
  });
});

describe('the schema', () => {
  it('exposes ruling fields only on Ruling, reachable only through Case.ruling', async () => {
    const text = await http('{ __schema { types { name fields { name type { name ofType { name } } } } } }');
    const types = JSON.parse(text).data.__schema.types as { name: string; fields: { name: string; type: { name: string | null; ofType: { name: string } | null } }[] | null }[];
    const holders = types.filter((type) => type.fields?.some((f) => ['salt', 'reasoning'].includes(f.name))).map((type) => type.name);
    expect(holders).toEqual(['Ruling']);
    const rulingFields = types.flatMap((type) =>
      (type.fields ?? []).filter((f) => (f.type.name ?? f.type.ofType?.name) === 'Ruling').map((f) => `${type.name}.${f.name}`),
    );
    expect(rulingFields).toEqual(['Case.ruling']);
    expect(types.map((type) => type.name)).not.toContain('SealedRuling');
  });
});

describe('after closure', () => {
  it('shows the ruling and salt everywhere', async () => {
    const { c, secrets, globalId } = await sealedCase('OPEN');
    await t.db.case.update({ where: { id: c.id }, data: { status: 'CLOSED', closedAt: new Date() } });
    for (const query of [
      `{ case(id: "${c.id}") { ${RULING_FIELDS} } }`,
      `{ node(id: "${globalId}") { ... on Case { ${RULING_FIELDS} } } }`,
      `{ cases(status: CLOSED, first: 100) { edges { node { ${RULING_FIELDS} } } } }`,
    ]) {
      const text = await http(query);
      for (const secret of secrets) expect(text).toContain(secret);
    }
  });
});

describe('logs', () => {
  it('never carried a sealed ruling or salt at info level', async () => {
    const rulings = await t.db.sealedRuling.findMany({ where: { case: { status: { not: 'CLOSED' } } } });
    expect(rulings.length).toBeGreaterThan(0);
    const log = logLines.join('');
    for (const r of rulings) expectNoSecret(log, [r.reasoning, Buffer.from(r.salt).toString('hex'), Buffer.from(r.salt).toString('base64')]);
  });
});
