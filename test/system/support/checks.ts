import { Contract, ZeroAddress, getAddress, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import pointsArtifact from '../../../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import registryArtifact from '../../../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { caseKeyOf, type Chain } from '../../../src/chain/index.js';
import type { Db } from '../../../src/db.js';
import { badgeByKey } from '../../../src/domain/badges.js';
import { buildLedger } from '../../../src/domain/ledger.js';
import { ledgerEntries } from '../../../src/domain/reveal.js';
import { CREATOR_MIN_PARTICIPANTS, computeShares } from '../../../src/domain/settlement.js';

// Read-only checks of a world after faults, each returning the list of what is wrong (empty when
// all holds), so a failure names every violation at once.

/**
 * Points are conserved:
 * - every closed case has one settlement with paid + treasury = pool (its reward pool), and its
 *   reward lines are exactly what the rules give for its votes and arguments (computeShares: 40 %
 *   to the winners, 15/9/6 % to the top arguments, 20 % to participants, 10 % to an eligible
 *   creator, each floored), so their sum is `paid`; a VOID case has no reward at all;
 * - every badge award has exactly one bonus reward, of its badge's bonus;
 * - every user's total_points is the sum of their COMPLETED rewards (users start at 0);
 * - with `settled`, nothing is left PENDING, PROCESSING or FAILED.
 */
export async function conservationViolations(db: Db, options: { settled: boolean }): Promise<string[]> {
  const wrong: string[] = [];
  const closed = await db.case.findMany({
    where: { status: 'CLOSED' },
    include: { settlement: true, ruling: true, rewards: { include: { user: { select: { walletAddress: true } } } } },
  });
  for (const c of closed) {
    const s = c.settlement;
    if (!s) {
      wrong.push(`case ${c.id}: CLOSED without a settlement`);
      continue;
    }
    const sum = c.rewards.reduce((a, r) => a + r.amount, 0);
    if (s.pool !== c.rewardPool) wrong.push(`case ${c.id}: settlement pool ${s.pool} ≠ reward pool ${c.rewardPool}`);
    if (s.paid + s.treasury !== s.pool) wrong.push(`case ${c.id}: paid ${s.paid} + treasury ${s.treasury} ≠ pool ${s.pool}`);
    if (sum !== s.paid) wrong.push(`case ${c.id}: rewards sum to ${sum}, settlement paid ${s.paid}`);
    if (s.outcome === 'VOID') {
      if (c.rewards.length > 0) wrong.push(`case ${c.id}: VOID with ${c.rewards.length} rewards`);
      continue;
    }
    const expected = await entitlements(db, c.id, c.ruling!.side, c.creatorId, c.rewardPool);
    const actual = c.rewards.map((r) => `${r.userId}:${r.kind}:${r.amount}`).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected.lines)) {
      wrong.push(`case ${c.id}: reward lines differ from the rules: ${JSON.stringify({ expected: expected.lines, actual })}`);
    }
    if (s.paid !== expected.shares.paid || s.treasury !== expected.shares.treasury) {
      wrong.push(`case ${c.id}: settlement ${s.paid}/${s.treasury}, rules give ${expected.shares.paid}/${expected.shares.treasury}`);
    }
  }

  const awards = await db.badgeAward.findMany({ include: { reward: true } });
  for (const a of awards) {
    const bonus = badgeByKey.get(a.badgeKey)?.bonus;
    if (!a.reward) wrong.push(`badge ${a.badgeKey} of ${a.userId}: no bonus reward`);
    else if (a.reward.amount !== bonus || a.reward.kind !== 'BADGE_BONUS') wrong.push(`badge ${a.badgeKey} of ${a.userId}: bonus ${a.reward.amount}, expected ${bonus}`);
  }
  const orphanBonuses = await db.reward.count({ where: { kind: 'BADGE_BONUS', badgeAwardId: null } });
  if (orphanBonuses > 0) wrong.push(`${orphanBonuses} badge bonuses without an award`);

  const points = await db.$queryRaw<{ id: string; handle: string; total_points: number; completed: number }[]>`
    SELECT u.id, u.handle, u.total_points, coalesce(sum(r.amount) FILTER (WHERE r.status = 'COMPLETED'), 0)::int AS completed
    FROM users u LEFT JOIN rewards r ON r.user_id = u.id GROUP BY u.id`;
  for (const u of points) {
    if (u.total_points !== u.completed) wrong.push(`user ${u.handle}: total_points ${u.total_points} ≠ completed rewards ${u.completed}`);
  }
  if (options.settled) {
    const open = await db.reward.groupBy({ by: ['status'], where: { status: { not: 'COMPLETED' } }, _count: true });
    for (const g of open) wrong.push(`${g._count} rewards still ${g.status}`);
  }
  return wrong;
}

/** The reward lines the rules give a closed case, from its votes and arguments, as `user:kind:amount`. */
async function entitlements(db: Db, caseId: string, side: 'A' | 'B', creatorId: string | null, pool: number) {
  const votes = await db.vote.findMany({ where: { caseId } });
  const args = await db.argument.findMany({ where: { caseId } });
  const top = args
    .filter((a) => a.upvoteCount >= 1)
    .sort((x, y) => y.upvoteCount - x.upvoteCount || x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1))
    .slice(0, 3);
  const participants = [...new Set([...votes.map((v) => v.userId), ...args.map((a) => a.userId)])];
  const winners = votes.filter((v) => v.side === side);
  const shares = computeShares({
    pool,
    winners: winners.length,
    participants: participants.length,
    topArguments: top.length,
    creatorEligible: creatorId !== null && participants.length >= CREATOR_MIN_PARTICIPANTS,
  });
  const lines = [
    ...winners.map((v) => [v.userId, 'WINNING_VOTE', shares.perWinner] as const),
    ...top.map((a, i) => [a.userId, 'TOP_ARGUMENT', shares.topArgument[i]!] as const),
    ...participants.map((u) => [u, 'PARTICIPATION', shares.perParticipant] as const),
    ...(creatorId && shares.creator > 0 ? [[creatorId, 'CREATOR', shares.creator] as const] : []),
  ]
    .filter(([, , amount]) => amount > 0)
    .map(([u, kind, amount]) => `${u}:${kind}:${amount}`)
    .sort();
  return { lines, shares };
}

/**
 * What the chain holds agrees with the database, by reading the chain itself (events, receipts,
 * balances), not Verdict's records of it:
 * - the mint transactions on chain are exactly the CONFIRMED payouts on file, each minting
 *   exactly its rewards (payout address, amount), so every paid reward is on chain exactly once and no
 *   payout the database gave up on (FAILED, its rewards queued again) ever reached the chain;
 * - each wallet's token balance is the sum of its user's rewards in mined payouts (settled: all of
 *   its COMPLETED rewards, and its total_points);
 * - every case key was committed at most once and revealed at most once (Revealed events); a
 *   revealed case is CLOSED and SETTLED, its reveal on file is that transaction, and the
 *   registry's side and ledger root are its ruling's side and its ledger's root (rebuilt here
 *   from the database);
 * - with `settled`: every closed, settled case is revealed and every reveal on file confirmed.
 */
export async function chainViolations(db: Db, chain: Chain, provider: JsonRpcProvider, options: { settled: boolean }): Promise<string[]> {
  const wrong: string[] = [];
  const token = new Contract(chain.tokenAddress, pointsArtifact.abi as InterfaceAbi, provider);
  const registry = new Contract(chain.registryAddress, registryArtifact.abi as InterfaceAbi, provider);

  // One block for every chain read, taken before the database is read: a transaction is on file
  // before it is broadcast, so whatever is mined by then is on file by the time we look.
  const block = await provider.getBlockNumber();

  // Payouts.
  const mints = await token.queryFilter(token.filters.Transfer!(ZeroAddress), 0, block);
  const minted = new Map<string, string[]>();
  for (const m of mints) {
    const [, to, value] = (m as unknown as { args: [string, string, bigint] }).args;
    const list = minted.get(m.transactionHash.toLowerCase()) ?? [];
    list.push(`${getAddress(to)}:${value}`);
    minted.set(m.transactionHash.toLowerCase(), list);
  }
  const payouts = await db.chainTransaction.findMany({
    where: { kind: 'PAYOUT' },
    include: { rewards: true },
  });
  const onFile = new Map(payouts.map((p) => [p.hash.toLowerCase(), p]));
  for (const [hash, transfers] of minted) {
    const p = onFile.get(hash);
    if (!p) wrong.push(`mint ${hash} is on chain but not on file`);
    // Between its mining and the monitor's next look, a payout is still SENT (its rewards PROCESSING).
    else if (p.status !== 'CONFIRMED' && (options.settled || p.status !== 'SENT')) wrong.push(`mint ${hash} is on chain but on file as ${p.status}`);
    else {
      const expected = p.rewards.map((r) => `${getAddress(r.payoutAddress!)}:${r.amount}`).sort();
      if (JSON.stringify(transfers.sort()) !== JSON.stringify(expected)) {
        wrong.push(`mint ${hash} pays ${JSON.stringify(transfers)}, its rewards on file are ${JSON.stringify(expected)}`);
      }
      const should = p.status === 'CONFIRMED' ? 'COMPLETED' : 'PROCESSING';
      for (const r of p.rewards) if (r.status !== should) wrong.push(`reward ${r.id} paid by ${p.status} ${hash} is ${r.status}`);
    }
  }
  for (const p of payouts) {
    if (p.status === 'CONFIRMED' && !minted.has(p.hash.toLowerCase())) wrong.push(`payout ${p.hash} on file as CONFIRMED mints nothing on chain`);
    if (p.status === 'FAILED' && (await provider.getTransactionReceipt(p.hash))) wrong.push(`payout ${p.hash} on file as FAILED was mined`);
  }
  // Each wallet holds exactly the rewards of its user whose payout is mined, at any time; once
  // settled, those are all of its user's rewards, and its user's points.
  const wallets = await db.user.findMany({
    where: { walletAddress: { not: null } },
    select: { handle: true, walletAddress: true, totalPoints: true, rewards: { select: { amount: true, status: true, payoutTx: { select: { hash: true } } } } },
  });
  for (const w of wallets) {
    const balance = (await token.getFunction('balanceOf')(w.walletAddress, { blockTag: block })) as bigint;
    const mined = w.rewards.filter((r) => r.payoutTx && minted.has(r.payoutTx.hash.toLowerCase())).reduce((a, r) => a + r.amount, 0);
    if (balance !== BigInt(mined)) wrong.push(`wallet of ${w.handle}: balance ${balance}, rewards in mined payouts ${mined}`);
    if (options.settled) {
      const completed = w.rewards.filter((r) => r.status === 'COMPLETED').reduce((a, r) => a + r.amount, 0);
      if (balance !== BigInt(completed) || balance !== BigInt(w.totalPoints)) {
        wrong.push(`wallet of ${w.handle}: balance ${balance}, completed rewards ${completed}, total_points ${w.totalPoints}`);
      }
    }
  }

  // Commitments and reveals.
  const committed = await registry.queryFilter(registry.filters.Committed!(), 0, block);
  const revealed = await registry.queryFilter(registry.filters.Revealed!(), 0, block);
  const byKey = (events: typeof committed) => {
    const map = new Map<string, string[]>();
    for (const e of events) {
      const key = (e.topics[1] ?? '').toLowerCase();
      map.set(key, [...(map.get(key) ?? []), e.transactionHash.toLowerCase()]);
    }
    return map;
  };
  const commits = byKey(committed);
  const reveals = byKey(revealed);
  for (const [key, hashes] of commits) if (hashes.length > 1) wrong.push(`case key ${key} committed ${hashes.length} times`);
  for (const [key, hashes] of reveals) if (hashes.length > 1) wrong.push(`case key ${key} revealed ${hashes.length} times`);

  const cases = await db.case.findMany({ include: { ruling: true, ledger: true, settlement: true, revealTx: true, commitTx: true } });
  const keys = new Set(cases.map((c) => caseKeyOf(c.id)));
  for (const key of reveals.keys()) if (!keys.has(key)) wrong.push(`case key ${key} revealed on chain, unknown here`);
  for (const c of cases) {
    const key = caseKeyOf(c.id);
    const commitHashes = commits.get(key) ?? [];
    if (c.commitTx?.status === 'CONFIRMED' && commitHashes[0] !== c.commitTx.hash.toLowerCase()) {
      wrong.push(`case ${c.id}: commitment on file ${c.commitTx.hash}, on chain ${JSON.stringify(commitHashes)}`);
    }
    const revealHashes = reveals.get(key) ?? [];
    if (revealHashes.length === 1) {
      if (c.status !== 'CLOSED' || c.settlement?.outcome !== 'SETTLED') wrong.push(`case ${c.id}: revealed on chain while ${c.status}/${c.settlement?.outcome}`);
      // The reveal is on file (claimed) before it is broadcast: never on chain without it.
      if (c.revealTx?.hash.toLowerCase() !== revealHashes[0]) wrong.push(`case ${c.id}: reveal on file ${c.revealTx?.hash}, on chain ${revealHashes[0]}`);
      const record = await chain.readRecord(key);
      if (record.side !== c.ruling?.side) wrong.push(`case ${c.id}: registry side ${record.side}, ruling ${c.ruling?.side}`);
      if (!c.ledger || record.ledgerRoot !== c.ledger.root.toLowerCase()) wrong.push(`case ${c.id}: registry root ${record.ledgerRoot}, ledger ${c.ledger?.root}`);
    }
    if (c.ledger) {
      const rebuilt = await buildLedger(c.id, await ledgerEntries(db, c.id));
      if (rebuilt.root !== c.ledger.root) wrong.push(`case ${c.id}: stored ledger root ${c.ledger.root}, rebuilt ${rebuilt.root}`);
    }
    if (options.settled && c.status === 'CLOSED' && c.settlement?.outcome === 'SETTLED') {
      if (revealHashes.length !== 1) wrong.push(`case ${c.id}: closed and settled, revealed ${revealHashes.length} times on chain`);
      if (c.revealTx?.status !== 'CONFIRMED') wrong.push(`case ${c.id}: reveal on file is ${c.revealTx?.status ?? 'missing'}`);
    }
  }
  const revealsOnFile = await db.chainTransaction.findMany({ where: { kind: 'REVEAL', status: 'FAILED' } });
  for (const t of revealsOnFile) if (await provider.getTransactionReceipt(t.hash)) wrong.push(`reveal ${t.hash} on file as FAILED was mined`);
  if (options.settled) {
    const sent = await db.chainTransaction.count({ where: { status: 'SENT' } });
    if (sent > 0) wrong.push(`${sent} chain transactions still SENT`);
  }
  return wrong;
}

/** Job runs left RUNNING (a run must end SUCCEEDED/FAILED, or be marked ABANDONED by the next claim). */
export async function stuckRuns(db: Db) {
  return db.jobRun.findMany({ where: { status: 'RUNNING' }, select: { id: true, job: true, holder: true, startedAt: true } });
}
