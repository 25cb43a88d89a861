import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

let t: TestApp;
let base: string;
let admin: string;
let user: string;
beforeAll(async () => {
  t = await createTestApp({ JOB_BADGES: 'off' });
  base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
  admin = (await issueSessionToken(t.db, t.sessions, (await createUser(t.db, { role: 'ADMIN' })).id)).token;
  user = (await issueSessionToken(t.db, t.sessions, (await createUser(t.db)).id)).token;
});
afterAll(() => t.close());

async function gql(query: string, token?: string) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

describe('jobs for admins', () => {
  it('lists the jobs with schedules, and refuses others', async () => {
    const result = await gql('{ jobs { name schedule running nextRunAt lastRun { id } } }', admin);
    const names = result.data.jobs.map((j: { name: string }) => j.name);
    expect(names).toEqual(expect.arrayContaining(['CASE_GENERATION', 'VERDICT_CHECK']));
    expect(result.data.jobs.find((j: { name: string }) => j.name === 'CASE_GENERATION').schedule).toBe('0 0 */12 * * *');
    expect(errorCode(await gql('{ jobs { name } }', user))).toBe('FORBIDDEN');
    expect(errorCode(await gql('{ jobs { name } }'))).toBe('UNAUTHENTICATED');
  });

  it('runs a job now, records it, and announces it to admins over graphql-ws', async () => {
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${admin}` } });
    try {
      const events = client.iterate<{ jobCompleted: { id: string; job: string; status: string; items: number } }>({
        query: 'subscription { jobCompleted { id job status items } }',
      });
      const next = events.next();
      // Give the subscription a moment to register, then run (each run announces once).
      let run: { id: string } | undefined;
      let event: IteratorResult<unknown> | undefined;
      for (let i = 0; i < 50 && !event; i++) {
        const result = await gql('mutation { runJob(name: CASE_GENERATION) { id job status items successes result } }', admin);
        expect(result.errors).toBeUndefined();
        run ??= result.data.runJob;
        expect(result.data.runJob).toMatchObject({ job: 'CASE_GENERATION', status: 'SUCCEEDED', successes: 1 });
        event = await Promise.race([next, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
      }
      expect(event).toMatchObject({ value: { data: { jobCompleted: { job: 'CASE_GENERATION', status: 'SUCCEEDED' } } } });
      await events.return?.();
      const listed = await gql('{ jobs { name lastRun { id status } } }', admin);
      expect(listed.data.jobs.find((j: { name: string }) => j.name === 'CASE_GENERATION').lastRun.status).toBe('SUCCEEDED');
      expect(await t.db.case.count({ where: { status: 'OPEN', source: 'OFFLINE' } })).toBeGreaterThan(0);
    } finally {
      await client.dispose();
    }
  });

  it('refuses runJob and jobCompleted to non-admins', async () => {
    expect(errorCode(await gql('mutation { runJob(name: VERDICT_CHECK) { id } }', user))).toBe('FORBIDDEN');
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${user}` } });
    try {
      const result = await client.iterate({ query: 'subscription { jobCompleted { id } }' }).next();
      expect(JSON.stringify(result.value)).toMatch(/FORBIDDEN/);
    } finally {
      await client.dispose();
    }
  });
});
