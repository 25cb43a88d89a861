// Job cleanup archives the votes and upvotes of old closed cases: the hot tables shrink, and
// every public answer about the case, and each user's history and totals, stay exactly the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ ARCHIVE_AFTER_DAYS: '90' });
});
afterAll(() => t.close());

/** The answer's data, which must come without errors. */
async function ask(query: string, token?: string) {
  const body = await t.query(query, token);
  expect(body.errors).toBeUndefined();
  return body.data;
}

const caseQuery = (id: string) => `{
  case(id: "${id}") {
    id status title voteCount argumentCount votesA votesB crowdSide closedAt
    ruling { side reasoning salt judge }
    settlement { pool winningSide winnerCount participantCount paid treasury outcome byKind { kind recipients points } }
    ledger { root leafCount }
    voteTimeline { firstVoteAt lastVoteAt hours { hour votesA votesB } }
    myVote { id side createdAt case { id } receipt { caseKey userKey side time leaf signature signer } }
    myReceipt { caseKey userKey ledgerRoot entries { entry detail value leaf proof } }
    arguments(first: 10) { edges { cursor node { id side body upvoteCount topRank author { handle } } } }
  }
  verifyVerdict(caseId: "${id}") { matches disagreements revealedSide ledgerRoot }
  me { handle totalPoints rank(period: ALL_TIME) badges { badge { key } } badgeProgress { badge { key } current earned }
    rewards(first: 20) { edges { node { kind amount status } } } }
}`;

describe('archiving a closed case', () => {
  it('moves its votes and upvotes out of the hot tables and changes no answer', async () => {
    // A case sealed and committed as the judge's are, so it settles and gets its ledger.
    const generated = await t.scheduler.runNow('case-generation');
    const c = await t.db.case.findUniqueOrThrow({ where: { id: ('result' in generated && (generated.result as { opened: string[] }).opened[0]) || '' } });
    expect(c.status).toBe('OPEN');
    const users = await Promise.all(Array.from({ length: 4 }, () => createUser(t.db)));
    const tokens = await Promise.all(users.map(async (u) => (await issueSessionToken(t.db, t.sessions, u.id)).token));
    for (const [i, token] of tokens.entries()) await ask(`mutation { castVote(caseId: "${c.id}", side: ${i < 3 ? 'A' : 'B'}) { side } }`, token);
    const args = [];
    for (const token of tokens.slice(0, 2)) {
      args.push((await ask(`mutation { submitArgument(caseId: "${c.id}", side: A, body: "An argument long enough to be accepted.") { id } }`, token)).submitArgument.id);
    }
    await ask(`mutation { upvoteArgument(argumentId: "${args[0]}") { upvoteCount } }`, tokens[2]);
    await ask(`mutation { upvoteArgument(argumentId: "${args[1]}") { upvoteCount } }`, tokens[3]);
    await t.db.$executeRaw`UPDATE cases SET closes_at = now() WHERE id = ${c.id}::uuid`;
    await t.scheduler.runNow('case-closure');
    await t.scheduler.runNow('badges');
    await t.scheduler.runNow('leaderboard');

    const before = [await ask(caseQuery(c.id)), ...(await Promise.all(tokens.map((token) => ask(caseQuery(c.id), token))))];
    expect(before[1].case).toMatchObject({ status: 'CLOSED', voteCount: 4, myVote: { side: 'A' }, settlement: { outcome: 'SETTLED' } });
    expect(before[1].verifyVerdict.matches).toBe(true);
    expect(before[1].case.myReceipt.entries.length).toBeGreaterThan(1);

    // Not yet 90 days: nothing moves. Then it is.
    expect(await t.scheduler.runNow('cleanup')).toMatchObject({ result: { archivedCases: 0 } });
    await t.db.$executeRaw`UPDATE cases SET closed_at = now() - interval '91 days' WHERE id = ${c.id}::uuid`;
    const closedAt = (await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).closedAt!.toISOString();
    for (const answer of before) answer.case.closedAt = closedAt;
    expect(await t.scheduler.runNow('cleanup')).toMatchObject({ status: 'SUCCEEDED', result: { archivedCases: 1 } });

    expect(await t.db.vote.count({ where: { caseId: c.id } })).toBe(0);
    expect(await t.db.voteArchive.count({ where: { caseId: c.id } })).toBe(4);
    const onCase = { argument: { caseId: c.id } };
    expect(await t.db.argumentUpvote.count({ where: onCase })).toBe(0);
    expect(await t.db.argumentUpvoteArchive.count({ where: onCase })).toBe(2);
    expect(await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({ archivedVotes: 4 });

    // A full badge pass and a leaderboard run afterwards count the archived votes as before.
    await t.scheduler.runNow('badges');
    await t.scheduler.runNow('leaderboard');
    const after = [await ask(caseQuery(c.id)), ...(await Promise.all(tokens.map((token) => ask(caseQuery(c.id), token))))];
    expect(after).toEqual(before);

    // Archived once: a second run finds nothing to move.
    expect(await t.scheduler.runNow('cleanup')).toMatchObject({ result: { archivedCases: 0 } });
  });
});
