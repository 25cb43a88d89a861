// TRUSTED_DOCUMENTS (issue #13): the server runs only the operations of codegen's manifest, over
// HTTP and WebSocket; ALLOW_ARBITRARY_OPERATIONS=admins keeps GraphiQL working for admins.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { CaseOpenedDocument, CastVoteDocument, CasesDocument, MeDocument, SignUpDocument } from './generated/graphql.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase } from './support/fixtures.js';
import { publishUntil } from './support/subscriptions.js';

const MANIFEST = path.resolve('test/generated/persisted-documents.json');
const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
// The client preset puts each document's hash (its manifest id) on the typed document.
const idOf = (document: unknown) => (document as { __meta__: { hash: string } }).__meta__.hash;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };

describe('trusted documents', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ TRUSTED_DOCUMENTS: MANIFEST, ALLOW_ARBITRARY_OPERATIONS: 'admins', ADMIN_HANDLES: 'the_admin,the_admin_ws' });
    base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
  });
  afterAll(() => t?.close());

  const post = async (body: Record<string, unknown>, token?: string): Promise<Answer> => {
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Answer;
  };
  const signUp = async (handle: string) =>
    (await post({ documentId: idOf(SignUpDocument), variables: { input: { handle, password: 'correct horse battery' } } })).data.signUp.token as string;

  it('runs every operation of the manifest by its id, and a whole flow with them', async () => {
    // Every document is known: none is refused as unknown or untrusted (variables aside).
    for (const id of Object.keys(manifest)) {
      const answer = await post({ documentId: id });
      const codes = (answer.errors ?? []).map((e) => e.extensions?.code);
      expect(codes.filter((c) => String(c).startsWith('PERSISTED_QUERY'))).toEqual([]);
    }
    const token = await signUp('trusted_voter');
    expect((await post({ documentId: idOf(MeDocument) }, token)).data.me.handle).toBe('trusted_voter');
    const c = await createCase(t.db, { title: 'Trusted case' });
    const cases = await post({ documentId: idOf(CasesDocument), variables: { status: 'OPEN', first: 10 } });
    const listed = cases.data.cases.edges.find((e: { node: { title: string } }) => e.node.title === c.title);
    expect(listed).toBeDefined();
    const vote = await post({ documentId: idOf(CastVoteDocument), variables: { caseId: listed.node.id, side: 'A' } }, token);
    expect(vote.errors).toBeUndefined();
    expect(vote.data.castVote.side).toBe('A');
    // The persisted-query extension (APQ's shape, the hash without its prefix) names them too.
    const hex = idOf(MeDocument).replace(/^sha256:/, '');
    expect((await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hex } } }, token)).data.me.handle).toBe('trusted_voter');
  });

  it('refuses documents of its own and unknown ids, with codes, changing nothing', async () => {
    const token = await signUp('trusted_user');
    const own = await post({ query: '{ me { handle } }' }, token);
    expect(own.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect(own.data).toBeUndefined();
    const unknown = await post({ documentId: 'sha256:0000' }, token);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const none = await post({ variables: {} }, token);
    expect(none.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ID_REQUIRED');
    // A write sent as text never runs.
    const c = await createCase(t.db, { title: 'Untouched' });
    const write = await post({ query: `mutation { castVote(caseId: "${c.id}", side: B) { side } }` }, token);
    expect(write.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect(await t.db.vote.count({ where: { caseId: c.id } })).toBe(0);
  });

  it('lets admins send their own documents (GraphiQL), and nobody else', async () => {
    const admin = await signUp('the_admin');
    expect((await post({ query: '{ me { handle role } }' }, admin)).data.me).toEqual({ handle: 'the_admin', role: 'ADMIN' });
    expect((await post({ query: '{ __schema { queryType { name } } }' })).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
  });

  it('holds over WebSocket too: trusted subscriptions by id, own documents for admins only', async () => {
    const url = `${base.replace('http', 'ws')}/graphql`;
    const user = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    const admin = createClient({
      url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${await signUp('the_admin_ws')}` },
    });
    try {
      const c = await createCase(t.db, { title: 'Opened over a socket' });
      const events = user.iterate<{ caseOpened: { title: string } }>({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: idOf(CaseOpenedDocument).slice(7) } } });
      const first = await publishUntil(events.next(), () => t.pubsub.publish('caseOpened', { caseId: c.id }));
      expect(first.value.data?.caseOpened.title).toBe(c.title);
      await events.return?.();

      const refused = await user.iterate({ query: '{ cases(first: 1) { edges { cursor } } }' }).next().then(
        () => null,
        (errors: { extensions?: { code?: string } }[]) => errors,
      );
      expect(refused?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
      const unknown = await user.iterate({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'ffff' } } }).next().then(
        () => null,
        (errors: { extensions?: { code?: string } }[]) => errors,
      );
      expect(unknown?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      // Admins are recognised by the token they connected with (ADMIN_HANDLES applies at sign-up).
      const own = await admin.iterate<{ me: { role: string } }>({ query: '{ me { role } }' }).next();
      expect(own.value.data?.me.role).toBe('ADMIN');
    } finally {
      await user.dispose();
      await admin.dispose();
    }
  });
});

describe('a manifest the server cannot use', () => {
  it('stops start-up with a message naming TRUSTED_DOCUMENTS and the document', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-manifest-'));
    const bad = path.join(dir, 'manifest.json');
    fs.writeFileSync(bad, JSON.stringify({ 'sha256:abc': '{ noSuchField }' }));
    const t = await createTestApp();
    try {
      expect(() => buildApp({ ...t.runtimeDeps, config: { ...t.config, TRUSTED_DOCUMENTS: bad } })).toThrow(/TRUSTED_DOCUMENTS: the document sha256:abc .* not valid/);
      fs.writeFileSync(bad, '[1]');
      expect(() => buildApp({ ...t.runtimeDeps, config: { ...t.config, TRUSTED_DOCUMENTS: bad } })).toThrow(/JSON object/);
    } finally {
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
