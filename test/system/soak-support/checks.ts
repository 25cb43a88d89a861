import { Contract, ZeroAddress, getAddress, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import type pg from 'pg';
import registryArtifact from '../../../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import pointsArtifact from '../../../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import { caseKeyOf } from '../../../src/chain/index.js';
import type { ReceivedEvent } from './client.js';

// What a soak checks after the fact, from the database (read once every server has stopped, so
// every run is finished and recorded) and from the chain.

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export interface JobRunRow {
  id: string;
  job: string;
  trigger: string;
  status: string;
  holder: string | null;
  started_at: Date;
  finished_at: Date | null;
  failures: number;
  error: string | null;
  result: Record<string, unknown> | null;
}

export async function jobRuns(db: pg.Client): Promise<JobRunRow[]> {
  return (await db.query<JobRunRow>('SELECT id, job, trigger, status, holder, started_at, finished_at, failures, error, result FROM job_runs ORDER BY job, started_at, id')).rows;
}

/** Two runs of one job whose [started_at, finished_at] intervals overlap (an unfinished run lasts forever). */
export function overlaps(runs: JobRunRow[]): string[] {
  const found: string[] = [];
  const byJob = groupBy(runs, (r) => r.job);
  for (const [job, list] of byJob) {
    // Sorted by start: each run must start at or after the latest end so far.
    let latest: JobRunRow | null = null;
    for (const run of list) {
      const latestEnd = latest ? (latest.finished_at?.getTime() ?? Infinity) : -Infinity;
      if (latest && run.started_at.getTime() < latestEnd) {
        found.push(
          `${job}: run ${run.id} (${run.holder}, ${run.started_at.toISOString()}–${run.finished_at?.toISOString() ?? 'unfinished'}) overlaps ` +
            `${latest.id} (${latest.holder}, ${latest.started_at.toISOString()}–${latest.finished_at?.toISOString() ?? 'unfinished'})`,
        );
      }
      if (!latest || (run.finished_at?.getTime() ?? Infinity) > latestEnd) latest = run;
    }
  }
  return found;
}

export function jobTable(runs: JobRunRow[], holderNames: Map<string, string>) {
  return [...groupBy(runs, (r) => r.job)].map(([job, list]) => {
    const byHolder: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    for (const r of list) {
      const name = holderNames.get(r.holder ?? '') ?? r.holder ?? '?';
      byHolder[name] = (byHolder[name] ?? 0) + 1;
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    }
    const durations = list.filter((r) => r.finished_at).map((r) => r.finished_at!.getTime() - r.started_at.getTime());
    return {
      job,
      runs: list.length,
      manual: list.filter((r) => r.trigger !== 'schedule').length,
      byServer: Object.entries(byHolder).map(([k, v]) => `${k}:${v}`).join(' '),
      status: Object.entries(byStatus).map(([k, v]) => `${k}:${v}`).join(' '),
      failures: list.reduce((a, r) => a + r.failures, 0),
      maxMs: Math.max(0, ...durations),
    };
  });
}

/** One thing that must reach each subscriber once: produced during `run` (publish happens inside it, or right after for jobCompleted). */
export interface Item {
  key: string;
  start: number;
  end: number;
}

/** The run whose interval holds `at` (±1 ms for the millisecond rounding of timestamptz(3)). */
function runAt(runs: JobRunRow[], at: number): JobRunRow | undefined {
  return runs.find((r) => r.finished_at && r.started_at.getTime() - 1 <= at && at <= r.finished_at.getTime() + 1);
}

const span = (run: JobRunRow): Pick<Item, 'start' | 'end'> => ({ start: run.started_at.getTime(), end: run.finished_at?.getTime() ?? Infinity });
const listed = (value: unknown): string[] => (Array.isArray(value) ? (value as string[]) : []);

/**
 * Per topic: the items the database says were published, and how to name a received event.
 * leaderboardUpdated: one per leaderboard run and period (computedAt is the run's `now`).
 * jobCompleted: one per finished run. caseOpened / caseClosed: one per case, by the run whose
 * summary lists it. badgeAwarded: one per award (awardedAt is the badges run's `now`).
 */
export async function expectedItems(db: pg.Client, runs: JobRunRow[]) {
  const finished = runs.filter((r) => r.finished_at);
  const leaderboardRuns = finished.filter((r) => r.job === 'leaderboard' && r.status === 'SUCCEEDED');
  const badgeRuns = finished.filter((r) => r.job === 'badges');
  const opened = new Map<string, Item>();
  const closed = new Map<string, Item>();
  for (const r of finished) {
    const summary = r.result ?? {};
    if (r.job === 'case-generation') for (const id of listed(summary.opened)) opened.set(id, { key: id, ...span(r) });
    if (r.job === 'tx-monitor') for (const id of listed((summary.commitments as Record<string, unknown> | undefined)?.opened)) opened.set(id, { key: id, ...span(r) });
    if (r.job === 'case-closure') for (const id of [...listed(summary.closed), ...listed(summary.voided)]) closed.set(id, { key: id, ...span(r) });
  }
  const awards = (
    await db.query<{ handle: string; badge_key: string; awarded_at: Date }>(
      'SELECT u.handle, b.badge_key, b.awarded_at FROM badge_awards b JOIN users u ON u.id = b.user_id',
    )
  ).rows;
  // Notifications are published right after the commit of the job that wrote them (closure,
  // badges, tx-monitor), and what is left by the notifications job.
  const notificationRuns = finished.filter((r) => ['notifications', 'case-closure', 'badges', 'tx-monitor'].includes(r.job));
  const hasNotifications = (await db.query(`SELECT to_regclass('notifications') AS t`)).rows[0]?.t !== null;
  const notifications = hasNotifications
    ? (await db.query<{ id: string; user_id: string; published_at: Date }>('SELECT id, user_id, published_at FROM notifications WHERE published_at IS NOT NULL')).rows
    : [];
  const badgeItems = new Map<string, Item>();
  const unplacedAwards: string[] = [];
  for (const a of awards) {
    const run = runAt(badgeRuns, a.awarded_at.getTime());
    const key = `${a.handle}/${a.badge_key}`;
    if (run) badgeItems.set(key, { key, ...span(run) });
    else unplacedAwards.push(`${key} at ${a.awarded_at.toISOString()}`);
  }
  return {
    leaderboard: {
      items: new Map(leaderboardRuns.map((r) => [r.id, { key: r.id, ...span(r) }])),
      keyOf: (data: Record<string, unknown>) => {
        const update = data.leaderboardUpdated as { computedAt: string };
        return runAt(leaderboardRuns, Date.parse(update.computedAt))?.id ?? `unknown computedAt ${update.computedAt}`;
      },
    },
    jobCompleted: {
      items: new Map(finished.map((r) => [r.id, { key: r.id, ...span(r) }])),
      keyOf: (data: Record<string, unknown>) => (data.jobCompleted as { id: string }).id,
    },
    caseOpened: { items: opened, keyOf: (data: Record<string, unknown>) => uuidFromGlobal((data.caseOpened as { id: string }).id) },
    caseClosed: { items: closed, keyOf: (data: Record<string, unknown>) => uuidFromGlobal((data.caseClosed as { id: string }).id) },
    badgeAwarded: {
      items: badgeItems,
      keyOf: (data: Record<string, unknown>) => {
        const a = data.badgeAwarded as { handle: string; badge: { key: string } };
        return `${a.handle}/${a.badge.key}`;
      },
    },
    unplacedAwards,
    /** notificationAdded of one user: one per notification, published (published_at) inside a run of a job that publishes them. */
    notificationsOf: (userId: string) => ({
      items: new Map(
        notifications
          .filter((n) => n.user_id === userId)
          .flatMap((n) => {
            const run = runAt(notificationRuns, n.published_at.getTime());
            return run ? [[n.id, { key: n.id, ...span(run) }] as const] : [];
          }),
      ),
      keyOf: (data: Record<string, unknown>) => {
        const decoded = Buffer.from((data.notificationAdded as { id: string }).id, 'base64').toString('utf8');
        return decoded.startsWith('Notification:') ? decoded.slice('Notification:'.length) : `unknown id ${decoded}`;
      },
    }),
  };
}

function uuidFromGlobal(id: string) {
  const decoded = Buffer.from(id, 'base64').toString('utf8');
  return decoded.startsWith('Case:') ? decoded.slice(5) : `unknown id ${id}`;
}

export interface Delivery {
  received: number;
  required: number;
  duplicates: string[];
  missing: string[];
  unknown: string[];
}

/**
 * Exactly once for every item produced wholly inside [from, to] (the subscriber was listening
 * before it started and its events had arrived by `to`); at most once for the rest; nothing that
 * is not an item at all.
 */
export function delivery(events: ReceivedEvent[], items: Map<string, Item>, keyOf: (data: Record<string, unknown>) => string, from: number, to: number): Delivery {
  const seen = new Map<string, number>();
  for (const e of events) {
    const key = keyOf(e.data);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const required = [...items.values()].filter((i) => i.start >= from && i.end <= to);
  return {
    received: events.length,
    required: required.length,
    duplicates: [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k}×${n}`),
    missing: required.filter((i) => !seen.has(i.key)).map((i) => i.key),
    unknown: [...seen.keys()].filter((k) => !items.has(k)),
  };
}

/** Points: every settlement adds up and matches its reward lines; every user's total is their completed rewards. */
export async function pointsProblems(db: pg.Client): Promise<{ problems: string[]; figures: Record<string, number> }> {
  const problems: string[] = [];
  const settlements = (
    await db.query<{ id: string; pool: number; paid: number; treasury: number; outcome: string; rewarded: string; lines: string }>(`
      SELECT c.id, s.pool, s.paid, s.treasury, s.outcome,
        coalesce((SELECT sum(amount) FROM rewards r WHERE r.case_id = c.id), 0) AS rewarded,
        (SELECT count(*) FROM rewards r WHERE r.case_id = c.id) AS lines
      FROM cases c JOIN case_settlements s ON s.case_id = c.id`)
  ).rows;
  for (const s of settlements) {
    if (s.paid + s.treasury !== s.pool) problems.push(`case ${s.id}: paid ${s.paid} + treasury ${s.treasury} ≠ pool ${s.pool}`);
    if (Number(s.rewarded) !== s.paid) problems.push(`case ${s.id}: reward lines sum to ${s.rewarded}, settlement paid ${s.paid}`);
    if (s.outcome === 'VOID') problems.push(`case ${s.id} closed VOID`);
  }
  const unsettled = (await db.query<{ id: string }>(`SELECT id FROM cases c WHERE status = 'CLOSED' AND NOT EXISTS (SELECT 1 FROM case_settlements s WHERE s.case_id = c.id)`)).rows;
  for (const c of unsettled) problems.push(`case ${c.id} CLOSED without a settlement`);
  const users = (
    await db.query<{ handle: string; total_points: number; completed: string }>(`
      SELECT u.handle, u.total_points, coalesce((SELECT sum(amount) FROM rewards r WHERE r.user_id = u.id AND r.status = 'COMPLETED'), 0) AS completed
      FROM users u`)
  ).rows;
  for (const u of users) if (u.total_points !== Number(u.completed)) problems.push(`user ${u.handle}: total_points ${u.total_points} ≠ completed rewards ${u.completed}`);
  const [totals] = (
    await db.query<{ pools: string; paid: string; treasury: string; points: string; rewards: string; completed: string }>(`
      SELECT (SELECT coalesce(sum(pool), 0) FROM case_settlements) AS pools, (SELECT coalesce(sum(paid), 0) FROM case_settlements) AS paid,
        (SELECT coalesce(sum(treasury), 0) FROM case_settlements) AS treasury, (SELECT coalesce(sum(total_points), 0) FROM users) AS points,
        (SELECT count(*) FROM rewards) AS rewards, (SELECT count(*) FROM rewards WHERE status = 'COMPLETED') AS completed`)
  ).rows;
  return {
    problems,
    figures: {
      closedCases: settlements.length,
      pools: Number(totals!.pools),
      paid: Number(totals!.paid),
      treasury: Number(totals!.treasury),
      userPoints: Number(totals!.points),
      rewards: Number(totals!.rewards),
      completedRewards: Number(totals!.completed),
      users: users.length,
    },
  };
}

/**
 * Payouts on chain once: every mint on the token is one PAYOUT transaction on file whose reward
 * lines it pays exactly (recipient and amount); no payout on file as FAILED was mined; every
 * wallet's balance is what its on-chain rewards add up to. Commitments and reveals: the registry
 * holds each case's stored commitment, and each confirmed reveal's side and ledger root.
 */
export async function chainProblems(db: pg.Client, provider: JsonRpcProvider, addresses: { registry: string; token: string }, stoppedAt: number) {
  const problems: string[] = [];
  // A transaction on file as SENT that the node never received: its broadcast was refused after
  // it was recorded (another server used the same nonce first). Ganache keeps every transaction
  // it accepts, so anything older than a few job runs is stuck, not in flight.
  const sent = (
    await db.query<{ kind: string; hash: string; sent_at: Date; commit_for: string | null; reveal_for: string | null }>(`
      SELECT t.kind, t.hash, t.sent_at, (SELECT id FROM cases WHERE commit_tx_id = t.id) AS commit_for, (SELECT id FROM cases WHERE reveal_tx_id = t.id) AS reveal_for
      FROM chain_transactions t WHERE t.status = 'SENT'`)
  ).rows;
  let neverBroadcast = 0;
  for (const t of sent) {
    if ((await provider.getTransaction(t.hash)) !== null || t.sent_at.getTime() > stoppedAt - 10_000) continue;
    neverBroadcast++;
    problems.push(
      `${t.kind} ${t.hash} (case ${t.commit_for ?? t.reveal_for ?? '-'}) on file as SENT since ${t.sent_at.toISOString()}, ` +
        `${Math.round((stoppedAt - t.sent_at.getTime()) / 1000)} s before the servers stopped, but the node never received it: it was not sent again`,
    );
  }
  const token = new Contract(addresses.token, pointsArtifact.abi as InterfaceAbi, provider);
  const registry = new Contract(addresses.registry, registryArtifact.abi as InterfaceAbi, provider);
  const mints = await token.queryFilter(token.filters.Transfer!(ZeroAddress), 0, 'latest');
  const onChain = new Map<string, Map<string, bigint>>(); // tx hash → recipient → amount
  for (const log of mints) {
    const args = (log as unknown as { args: [string, string, bigint] }).args;
    const perTx = onChain.get(log.transactionHash) ?? new Map<string, bigint>();
    perTx.set(getAddress(args[1]), (perTx.get(getAddress(args[1])) ?? 0n) + args[2]);
    onChain.set(log.transactionHash, perTx);
  }
  const payouts = (await db.query<{ id: string; hash: string; status: string }>(`SELECT id, hash, status FROM chain_transactions WHERE kind = 'PAYOUT'`)).rows;
  const lines = (
    await db.query<{ payout_tx_id: string; wallet: string; amount: number; status: string }>(`
      SELECT r.payout_tx_id, u.wallet_address AS wallet, r.amount, r.status FROM rewards r JOIN users u ON u.id = r.user_id WHERE r.payout_tx_id IS NOT NULL`)
  ).rows;
  const byTx = groupBy(lines, (l) => l.payout_tx_id);
  const expectedBalance = new Map<string, bigint>();
  for (const p of payouts) {
    const mined = onChain.get(p.hash);
    const rows = byTx.get(p.id) ?? [];
    if (p.status === 'FAILED') {
      if (mined) problems.push(`payout ${p.hash} is FAILED on file but was mined`);
      if (rows.length) problems.push(`payout ${p.hash} is FAILED but still holds ${rows.length} rewards`);
      continue;
    }
    if (!mined) {
      if (p.status === 'CONFIRMED') problems.push(`payout ${p.hash} CONFIRMED on file, not on chain`);
      if (rows.some((r) => r.status === 'COMPLETED')) problems.push(`payout ${p.hash} not mined but its rewards are COMPLETED`);
      continue;
    }
    const want = new Map<string, bigint>();
    for (const r of rows) want.set(getAddress(r.wallet), (want.get(getAddress(r.wallet)) ?? 0n) + BigInt(r.amount));
    const same = want.size === mined.size && [...want].every(([to, amount]) => mined.get(to) === amount);
    if (!same) problems.push(`payout ${p.hash}: mints ${JSON.stringify([...mined].map(([a, v]) => [a, String(v)]))} ≠ its rewards ${JSON.stringify([...want].map(([a, v]) => [a, String(v)]))}`);
    for (const [to, amount] of mined) expectedBalance.set(to, (expectedBalance.get(to) ?? 0n) + amount);
    if (p.status === 'CONFIRMED' && rows.some((r) => r.status !== 'COMPLETED')) problems.push(`payout ${p.hash} CONFIRMED with rewards not COMPLETED`);
  }
  const known = new Set(payouts.map((p) => p.hash));
  for (const hash of onChain.keys()) if (!known.has(hash)) problems.push(`mint transaction ${hash} is not a payout on file`);
  const wallets = (await db.query<{ wallet: string }>('SELECT wallet_address AS wallet FROM users WHERE wallet_address IS NOT NULL')).rows;
  let minted = 0n;
  for (const { wallet } of wallets) {
    const balance = (await token.getFunction('balanceOf')(wallet)) as bigint;
    minted += balance;
    if (balance !== (expectedBalance.get(getAddress(wallet)) ?? 0n)) problems.push(`wallet ${wallet}: balance ${balance} ≠ its mined rewards ${expectedBalance.get(getAddress(wallet)) ?? 0n}`);
  }
  const supply = (await token.getFunction('totalSupply')()) as bigint;
  if (supply !== minted) problems.push(`token supply ${supply} ≠ the wallets' balances ${minted}`);

  const cases = (
    await db.query<{ id: string; status: string; commitment: string | null; commitment_status: string; side: string; reveal: string | null; root: string | null }>(`
      SELECT c.id, c.status, c.commitment, c.commitment_status, r.side, t.status AS reveal, l.root
      FROM cases c JOIN sealed_rulings r ON r.case_id = c.id
      LEFT JOIN chain_transactions t ON t.id = c.reveal_tx_id LEFT JOIN case_ledgers l ON l.case_id = c.id`)
  ).rows;
  let revealed = 0;
  for (const c of cases) {
    if (c.commitment_status === 'MISMATCH') problems.push(`case ${c.id}: commitment MISMATCH`);
    if (c.status === 'PENDING') continue;
    const [commitment, , , , side, root] = (await registry.getFunction('recordOf')(caseKeyOf(c.id))) as [string, bigint, bigint, bigint, bigint, string];
    if (commitment.toLowerCase() !== c.commitment) problems.push(`case ${c.id}: registry holds ${commitment}, stored ${c.commitment}`);
    if (c.reveal === 'CONFIRMED') {
      revealed++;
      if (side !== (c.side === 'A' ? 1n : 2n) || root.toLowerCase() !== c.root) problems.push(`case ${c.id}: registry reveal side ${side} root ${root}, stored ${c.side} ${c.root}`);
    }
  }
  return {
    problems,
    figures: {
      mintTransactions: onChain.size,
      payoutsOnFile: payouts.length,
      failedPayouts: payouts.filter((p) => p.status === 'FAILED').length,
      wallets: wallets.length,
      tokenSupply: Number(supply),
      casesOnChain: cases.filter((c) => c.status !== 'PENDING').length,
      revealsConfirmed: revealed,
      sentButNeverBroadcast: neverBroadcast,
    },
  };
}

/**
 * What a stuck soak looks like from outside: job runs still RUNNING long after they started,
 * who holds the job claims, what the database sessions wait for, and what the chain node holds
 * in its pool (a transaction Ganache never mines keeps its sender's RPC call waiting).
 */
export async function stuckDiagnosis(db: pg.Client, provider: JsonRpcProvider, owner: string, olderThanMs: number, rpcWaiting: string[]): Promise<string | null> {
  const { rows: stuck } = await db.query<{ job: string; holder: string; started_at: Date }>(
    `SELECT job, holder, started_at FROM job_runs WHERE status = 'RUNNING' AND started_at < now() - $1 * interval '1 millisecond'`,
    [olderThanMs],
  );
  if (stuck.length === 0) return null;
  const { rows: locks } = await db.query('SELECT job, holder, locked_until FROM job_locks ORDER BY job');
  const { rows: sessions } = await db.query(
    `SELECT pid, state, wait_event_type, wait_event, now() - xact_start AS xact_age, left(query, 160) AS query
     FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`,
  );
  const { rows: sent } = await db.query(`SELECT kind, hash, nonce, sent_at, status FROM chain_transactions WHERE status = 'SENT' ORDER BY sent_at`);
  const [latest, pending] = await Promise.all([provider.getTransactionCount(owner, 'latest'), provider.getTransactionCount(owner, 'pending')]);
  const pool = await provider.send('txpool_content', []).catch((error: Error) => `txpool_content failed: ${error.message}`);
  return [
    `stuck job runs: ${JSON.stringify(stuck)}`,
    `job_locks: ${JSON.stringify(locks)}`,
    `busy database sessions: ${JSON.stringify(sessions)}`,
    `chain transactions on file as SENT: ${JSON.stringify(sent)}`,
    `chain key nonce: latest ${latest}, pending ${pending}`,
    `node transaction pool: ${JSON.stringify(pool).slice(0, 2000)}`,
    `JSON-RPC calls the node has not answered for over 5 s: ${rpcWaiting.join('; ') || 'none'}`,
  ].join('\n  ');
}
