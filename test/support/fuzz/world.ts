import { randomBytes } from 'node:crypto';
import { Wallet, getAddress } from 'ethers';
import { computeCommitment } from '../../../src/domain/commitment.js';
import { issueSessionToken } from '../../../src/domain/sessions.js';
import { BADGES } from '../../../src/domain/badges.js';
import type { TestApp } from '../app.js';
import { createCase, createUser, sealOnChain } from '../fixtures.js';
import { globalId } from './values.js';

export interface Ref {
  id: string;
  globalId: string;
}

export interface Person extends Ref {
  handle: string;
}

export interface WalletPair {
  label: string;
  message: string;
  signature: string;
}

/**
 * Everything the fuzzer draws plausible values from: real ids of every kind (to send where they
 * belong and where they do not), cursors of every connection (to send to the others), sessions,
 * wallet challenges. Built once per test file through the app's own paths where it matters.
 */
export interface World {
  user: Person;
  admin: Person;
  others: Person[];
  /** Signed up through the API: signIn can succeed with it. */
  known: { handle: string; password: string };
  tokens: { user: string; admin: string; expired: string; tampered: string; deletedUser: string };
  cases: { open: Ref[]; closed: Ref[]; pending: Ref[] };
  arguments: (Ref & { caseId: string })[];
  voteIds: string[];
  rewardIds: string[];
  failedRewardId: string;
  jobRunIds: string[];
  handles: string[];
  cursors: { cases: string[]; casesOpen: string[]; casesClosed: string[]; arguments: string[]; rewards: string[]; notifications: string[] };
  /** Global ids of the user's and the admin's notifications (empty where the schema has none). */
  notificationIds: string[];
  wallets: WalletPair[];
  badgeKeys: string[];
}

const ref = (type: string, id: string): Ref => ({ id, globalId: globalId(type, id) });

/** Whether the running schema has this field (the world adapts to what the API offers). */
const schemaHas = (t: TestApp, type: string, field: string) => {
  const object = t.app.yoga.getEnveloped().schema.getType(type) as { getFields?: () => Record<string, unknown> } | undefined;
  return Boolean(object?.getFields?.()[field]);
};

async function ask(t: TestApp, query: string, token?: string) {
  const response = await t.app.yoga.fetch(`http://verdict.test${t.config.GRAPHQL_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(`world setup: ${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** A case as the sealing flow leaves it: its commitment is the real one for its ruling. */
async function sealedFixture(t: TestApp, fixture: Parameters<typeof createCase>[1]) {
  const c = await createCase(t.db, fixture);
  if (c.status === 'PENDING') {
    const r = c.ruling!;
    const commitment = computeCommitment({ chainId: t.chain.chainId, registryAddress: t.chain.registryAddress, caseId: c.id, side: r.side, reasoning: r.reasoning, salt: r.salt });
    await t.db.case.update({ where: { id: c.id }, data: { commitment } });
  } else {
    await sealOnChain(t.db, t.chain, c.id);
  }
  return c;
}

export async function buildWorld(t: TestApp): Promise<World> {
  const tag = randomBytes(3).toString('hex');
  const person = async (role: 'USER' | 'ADMIN', handle: string): Promise<Person> => {
    const u = await createUser(t.db, { handle, role });
    return { ...ref('User', u.id), handle: u.handle };
  };
  const user = await person('USER', `fuzz_user_${tag}`);
  const admin = await person('ADMIN', `fuzz_admin_${tag}`);
  const others = [await person('USER', `fuzz_alice_${tag}`), await person('USER', `fuzz_bob_${tag}`), await person('USER', `fuzz_carol_${tag}`)];
  const token = async (id: string, now?: Date) => (await issueSessionToken(t.db, t.sessions, id, now)).token;

  // Signed up through the API, so signIn has one right answer to find.
  const known = { handle: `fuzz_known_${tag}`, password: 'a long enough passphrase' };
  await ask(t, `mutation { signUp(input: { handle: ${JSON.stringify(known.handle)}, password: ${JSON.stringify(known.password)} }) { token } }`);

  // Cases: three open, one pending (correctly sealed, not yet sent), one closed by the closure job.
  const open = [await sealedFixture(t, {}), await sealedFixture(t, {}), await sealedFixture(t, { creatorId: others[0]!.id })];
  const pending = await sealedFixture(t, { status: 'PENDING', opensAt: new Date(Date.now() + 3600_000) });
  const due = await sealedFixture(t, { opensAt: new Date(Date.now() - 25 * 3600_000), rulingSide: 'A' });

  const voters = [user, admin, ...others];
  for (const [i, v] of voters.entries()) await t.db.vote.create({ data: { caseId: due.id, userId: v.id, side: i % 3 === 2 ? 'B' : 'A' } });
  await t.db.vote.create({ data: { caseId: open[0]!.id, userId: others[1]!.id, side: 'A' } });
  const body = (who: string) => `${who} argues at length that the answer is plain, and says why in some detail.`;
  const dueArgs = await Promise.all(
    [others[0]!, others[1]!, user].map((p, i) => t.db.argument.create({ data: { caseId: due.id, userId: p.id, side: i === 1 ? 'B' : 'A', body: body(p.handle) } })),
  );
  await t.db.argumentUpvote.create({ data: { argumentId: dueArgs[0]!.id, userId: admin.id } });
  await t.db.argument.update({ where: { id: dueArgs[0]!.id }, data: { upvoteCount: 1 } });
  const openArgs = [
    await t.db.argument.create({ data: { caseId: open[0]!.id, userId: others[0]!.id, side: 'A', body: body('alice') } }),
    await t.db.argument.create({ data: { caseId: open[0]!.id, userId: others[2]!.id, side: 'B', body: body('carol') } }),
    await t.db.argument.create({ data: { caseId: open[1]!.id, userId: user.id, side: 'B', body: body('user') } }),
  ];
  const closure = await t.scheduler.runNow('case-closure');
  if (!('id' in closure) || closure.status !== 'SUCCEEDED') throw new Error(`world setup: closure ${JSON.stringify(closure)}`);
  const closed = await t.db.case.findUniqueOrThrow({ where: { id: due.id } });
  if (closed.status !== 'CLOSED') throw new Error('world setup: the due case did not close');
  const leaderboard = await t.scheduler.runNow('leaderboard');
  if (!('id' in leaderboard)) throw new Error('world setup: leaderboard job skipped');

  // A wallet user whose payout failed for good: retryReward has one reward it may re-queue.
  const walletOwner = Wallet.createRandom();
  const walleter = await t.db.user.create({ data: { handle: `fuzz_wallet_${tag}`, passwordHash: 'scrypt$unused', walletAddress: getAddress(walletOwner.address) } });
  const failedTx = await t.db.chainTransaction.create({
    data: { kind: 'PAYOUT', hash: `0x${randomBytes(32).toString('hex')}`, chainId: t.chain.chainId, status: 'FAILED', error: 'reverted (fuzz world)' },
  });
  const failedReward = await t.db.reward.create({ data: { userId: walleter.id, caseId: due.id, kind: 'PARTICIPATION', amount: 7, status: 'FAILED', payoutTxId: failedTx.id, payoutAddress: walleter.walletAddress } });

  // Sessions: good ones, and ones that must count as anonymous.
  const deleted = await createUser(t.db, { handle: `fuzz_gone_${tag}` });
  const deletedToken = await token(deleted.id);
  await t.db.user.delete({ where: { id: deleted.id } });
  const userToken = await token(user.id);
  const tampered = userToken.slice(0, -4) + (userToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const tokens = {
    user: userToken,
    admin: await token(admin.id),
    expired: await token(user.id, new Date(Date.now() - 400 * 24 * 3600_000)),
    tampered,
    deletedUser: deletedToken,
  };

  // Wallet challenges: one that links, one signed by another key, one for a wallet already
  // linked to someone else, one for another user's session, one for the admin.
  const wallets: WalletPair[] = [];
  const challenge = async (who: string, address: string) =>
    (await ask(t, `mutation { walletChallenge(address: ${JSON.stringify(address)}) { message } }`, who)).walletChallenge.message as string;
  const mine = Wallet.createRandom();
  const stranger = Wallet.createRandom();
  const m1 = await challenge(tokens.user, mine.address);
  wallets.push({ label: 'valid for the user', message: m1, signature: await mine.signMessage(m1) });
  const m2 = await challenge(tokens.user, mine.address);
  wallets.push({ label: 'signed by another key', message: m2, signature: await stranger.signMessage(m2) });
  const m3 = await challenge(tokens.user, walletOwner.address);
  wallets.push({ label: 'wallet linked to another user', message: m3, signature: await walletOwner.signMessage(m3) });
  const aliceToken = await token(others[0]!.id);
  const m4 = await challenge(aliceToken, stranger.address);
  wallets.push({ label: "another user's challenge", message: m4, signature: await stranger.signMessage(m4) });
  const adminWallet = Wallet.createRandom();
  const m5 = await challenge(tokens.admin, adminWallet.address);
  wallets.push({ label: 'valid for the admin', message: m5, signature: await adminWallet.signMessage(m5) });

  // Cursors of every connection, to be sent to the others.
  const casesCursors = async (status?: string) =>
    (await ask(t, `{ cases(first: 100${status ? `, status: ${status}` : ''}) { edges { cursor } } }`)).cases.edges.map((e: { cursor: string }) => e.cursor) as string[];
  const argumentCursors: string[] = [];
  for (const c of [...open, closed]) {
    const data = await ask(t, `{ case(id: ${JSON.stringify(c.id)}) { arguments(first: 100) { edges { cursor } } } }`);
    argumentCursors.push(...data.case.arguments.edges.map((e: { cursor: string }) => e.cursor));
  }
  const rewardCursors: string[] = [];
  const rewardIds: string[] = [];
  for (const who of [tokens.user, tokens.admin]) {
    const data = await ask(t, '{ me { rewards(first: 100) { edges { cursor node { id } } } } }', who);
    for (const e of data.me.rewards.edges) {
      rewardCursors.push(e.cursor);
      rewardIds.push(e.node.id);
    }
  }
  if (rewardIds.length === 0) throw new Error('world setup: the closure paid nobody');

  // Notifications, where this version has them (the notifications job makes them from the closure).
  const notificationIds: string[] = [];
  const notificationCursors: string[] = [];
  if (schemaHas(t, 'Subscription', 'notificationAdded')) {
    await t.scheduler.runNow('notifications' as never);
    for (const who of [tokens.user, tokens.admin]) {
      const data = await ask(t, '{ me { notifications(first: 100) { edges { cursor node { id } } } } }', who);
      for (const e of data.me.notifications?.edges ?? []) {
        notificationCursors.push(e.cursor);
        notificationIds.push(e.node.id);
      }
    }
  }

  const votes = await t.db.vote.findMany({ select: { id: true } });
  const runs = await t.db.jobRun.findMany({ select: { id: true } });
  return {
    user,
    admin,
    others,
    known,
    tokens,
    cases: { open: open.map((c) => ref('Case', c.id)), closed: [ref('Case', closed.id)], pending: [ref('Case', pending.id)] },
    arguments: [...dueArgs, ...openArgs].map((a) => ({ ...ref('Argument', a.id), caseId: a.caseId })),
    voteIds: votes.map((v) => v.id),
    rewardIds: [...rewardIds, failedReward.id],
    failedRewardId: failedReward.id,
    jobRunIds: runs.map((r) => r.id),
    handles: [user.handle, admin.handle, ...others.map((o) => o.handle), known.handle, walleter.handle],
    cursors: {
      cases: await casesCursors(),
      casesOpen: await casesCursors('OPEN'),
      casesClosed: await casesCursors('CLOSED'),
      arguments: argumentCursors,
      rewards: rewardCursors,
      notifications: notificationCursors,
    },
    notificationIds,
    wallets,
    badgeKeys: BADGES.map((b) => b.key),
  };
}
