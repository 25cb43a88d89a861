// The hand-written floors the benchmark compares Verdict with: for each operation, the fewest SQL
// statements that write the same rows, with nothing around them. And the naive way for the
// leaderboard (every row into the process). test/bench-floors.test.ts checks that each produces
// exactly what the project does, so no ratio compares different work.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../src/db.js';
import { BADGES } from '../src/domain/badges.js';
import { badgeEarnedNotifications } from '../src/domain/notifications.js';
import { computeShares, CREATOR_MIN_PARTICIPANTS } from '../src/domain/settlement.js';
import { Prisma } from '../src/generated/prisma/client.js';
import type { LeaderboardPeriod } from '../src/generated/prisma/enums.js';

const DAY = 24 * 3600_000;
const HOUR = 3600_000;

/**
 * The leaderboard job's rows for one period (snapshot, score distribution, top 100), in one
 * statement: the distribution replaces the period's histogram (what a rank reads).
 */
export async function leaderboardFloor(db: Db, period: LeaderboardPeriod, now: Date): Promise<void> {
  const since = new Date(now.getTime() - (period === 'WEEKLY' ? 7 : 1) * DAY);
  const keepAfter = new Date(now.getTime() - HOUR);
  const points = period === 'ALL_TIME'
    ? Prisma.sql`SELECT id AS user_id, total_points AS points FROM users WHERE total_points > 0`
    : Prisma.sql`SELECT user_id, sum(amount)::int AS points FROM rewards
      WHERE status = 'COMPLETED' AND completed_at > ${since} AND completed_at <= ${now} GROUP BY user_id`;
  await db.$executeRaw`
    WITH p AS MATERIALIZED (${points}),
    d AS MATERIALIZED (SELECT points, count(*)::int AS n FROM p GROUP BY points),
    s AS (INSERT INTO leaderboard_snapshots SELECT ${period}::"LeaderboardPeriod", ${now}, coalesce(sum(n), 0) FROM d),
    h AS (INSERT INTO leaderboard_histogram SELECT ${period}::"LeaderboardPeriod", points, n FROM d
      ON CONFLICT (period, points) DO UPDATE SET users = EXCLUDED.users WHERE leaderboard_histogram.users <> EXCLUDED.users),
    g AS (DELETE FROM leaderboard_histogram h WHERE period = ${period}::"LeaderboardPeriod" AND NOT EXISTS (SELECT 1 FROM d WHERE d.points = h.points)),
    c AS (INSERT INTO leaderboard_cache
      SELECT ${period}::"LeaderboardPeriod", ${now}, user_id, rank() OVER (ORDER BY points DESC), points FROM (
        SELECT t.user_id, t.points FROM (SELECT * FROM p ORDER BY points DESC FETCH FIRST 100 ROWS WITH TIES) t
        JOIN users u ON u.id = t.user_id ORDER BY t.points DESC, u.handle LIMIT 100) top),
    x AS (DELETE FROM leaderboard_cache WHERE period = ${period}::"LeaderboardPeriod" AND computed_at < ${keepAfter}),
    y AS (DELETE FROM leaderboard_snapshots WHERE period = ${period}::"LeaderboardPeriod" AND computed_at < ${keepAfter})
    SELECT 1`;
}

/** The design notes' way: the period's rows into the process, summed, sorted and written back. */
export async function leaderboardNaive(db: Db, period: LeaderboardPeriod, now: Date): Promise<void> {
  const totals = new Map<string, number>();
  if (period === 'ALL_TIME') {
    for (const u of await db.user.findMany({ where: { totalPoints: { gt: 0 } }, select: { id: true, totalPoints: true } })) {
      totals.set(u.id, u.totalPoints);
    }
  } else {
    const since = new Date(now.getTime() - (period === 'WEEKLY' ? 7 : 1) * DAY);
    const rows = await db.reward.findMany({
      where: { status: 'COMPLETED', completedAt: { gt: since, lte: now } },
      select: { userId: true, amount: true },
    });
    for (const r of rows) totals.set(r.userId, (totals.get(r.userId) ?? 0) + r.amount);
  }
  const sorted = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  const cut = sorted.length > 100 ? sorted[99]![1] : 0;
  const top = sorted.filter(([, points]) => points >= cut);
  const handles = new Map(
    (await db.user.findMany({ where: { id: { in: top.map(([id]) => id) } }, select: { id: true, handle: true } })).map((u) => [u.id, u.handle]),
  );
  top.sort((a, b) => b[1] - a[1] || (handles.get(a[0])! < handles.get(b[0])! ? -1 : 1));
  const counts = new Map<number, number>();
  for (const [, points] of sorted) counts.set(points, (counts.get(points) ?? 0) + 1);
  const histogram = [...counts.entries()].map(([points, users]) => ({ period, points, users }));
  await db.leaderboardSnapshot.create({ data: { period, computedAt: now, rankedUsers: sorted.length } });
  await db.leaderboardHistogram.deleteMany({ where: { period } });
  for (let i = 0; i < histogram.length; i += 10_000) await db.leaderboardHistogram.createMany({ data: histogram.slice(i, i + 10_000) });
  await db.leaderboardEntry.createMany({
    data: top.slice(0, 100).map(([userId, points]) => ({ period, computedAt: now, userId, points, rank: 1 + top.findIndex(([, p]) => p === points) })),
  });
  const keepAfter = new Date(now.getTime() - HOUR);
  await db.leaderboardEntry.deleteMany({ where: { period, computedAt: { lt: keepAfter } } });
  await db.leaderboardSnapshot.deleteMany({ where: { period, computedAt: { lt: keepAfter } } });
}

/**
 * The histogram as the job left it, and a way back to it (setup, not measured): the floor and the
 * naive way rewrite it from the points of their own moment, while the job's counted points stay
 * at its last run; its next run moves the histogram on from where it left it.
 */
export async function keepHistogram(db: Db): Promise<() => Promise<void>> {
  const kept = await db.leaderboardHistogram.findMany();
  return async () => {
    await db.$transaction([db.leaderboardHistogram.deleteMany(), db.leaderboardHistogram.createMany({ data: kept })]);
  };
}

/**
 * `users` random users earn points completed at `at`, as a closed case pays them (setup, not
 * measured): what the leaderboard job finds changed since its last run. Returns the case.
 */
export async function earnPoints(db: Db, users: number, at: Date): Promise<string> {
  const caseId = randomUUID();
  await db.$transaction([
    db.$executeRaw`INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source, status, opens_at, closes_at, closed_at, reward_pool, commitment, commitment_status)
      VALUES (${caseId}::uuid, 'Bench points', repeat('A dilemma for the leaderboard benchmark. ', 8), 'Keep', 'Return', 'AI', 'CLOSED',
        ${new Date(at.getTime() - 2 * DAY)}, ${new Date(at.getTime() - DAY)}, ${at}, 0, ${`0x${randomBytes(32).toString('hex')}`}, 'VERIFIED')`,
    db.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount, status, completed_at)
      SELECT id, ${caseId}::uuid, 'PARTICIPATION', 1 + floor(random() * 40)::int, 'COMPLETED', ${at}
      FROM users ORDER BY random() LIMIT ${users}`,
    db.$executeRaw`UPDATE users u SET total_points = u.total_points + r.amount
      FROM rewards r WHERE r.case_id = ${caseId}::uuid AND u.id = r.user_id`,
  ], { timeout: 600_000 });
  return caseId;
}

/** A full badge pass as one statement over whole tables: every award, its notification, bonus and credit. */
export async function badgesFloor(db: Db, now: Date): Promise<void> {
  const values = Prisma.join(BADGES.map((b) => Prisma.sql`(${b.key}, ${b.metric}, ${b.target}::int, ${b.bonus}::int)`));
  await db.$executeRaw`
    WITH v AS (
      SELECT v.user_id, count(*) AS votes, count(*) FILTER (WHERE s.winning_side = v.side) AS wins
      FROM votes_all v LEFT JOIN case_settlements s ON s.case_id = v.case_id GROUP BY v.user_id),
    p AS (SELECT user_id, count(DISTINCT case_id) AS participations FROM (
      SELECT user_id, case_id FROM votes_all UNION ALL SELECT user_id, case_id FROM arguments) x GROUP BY user_id),
    t AS (SELECT user_id, count(*) AS top FROM arguments WHERE top_rank IS NOT NULL GROUP BY user_id),
    m AS (SELECT u.id AS user_id, coalesce(v.wins, 0) AS wins, coalesce(t.top, 0) AS "topArguments",
        coalesce(p.participations, 0) AS participations, coalesce(v.votes, 0) AS votes,
        u.is_beta_user::int AS beta, (u.wallet_address IS NOT NULL)::int AS wallet
      FROM users u LEFT JOIN v ON v.user_id = u.id LEFT JOIN p ON p.user_id = u.id LEFT JOIN t ON t.user_id = u.id),
    a AS (INSERT INTO badge_awards (user_id, badge_key, awarded_at)
      SELECT m.user_id, b.key, ${now} FROM m JOIN (VALUES ${values}) b(key, metric, target, bonus)
        ON CASE b.metric WHEN 'wins' THEN m.wins WHEN 'topArguments' THEN m."topArguments" WHEN 'participations' THEN m.participations
          WHEN 'votes' THEN m.votes WHEN 'beta' THEN m.beta WHEN 'wallet' THEN m.wallet END >= b.target
      ON CONFLICT DO NOTHING RETURNING id, user_id, badge_key),
    n AS (${badgeEarnedNotifications(Prisma.sql`a`)}),
    r AS (INSERT INTO rewards (user_id, badge_award_id, kind, amount, status, completed_at, payout_address)
      SELECT a.user_id, a.id, 'BADGE_BONUS', b.bonus,
        CASE WHEN u.wallet_address IS NULL THEN 'COMPLETED' ELSE 'PENDING' END::"RewardStatus",
        CASE WHEN u.wallet_address IS NULL THEN ${now}::timestamptz END, u.wallet_address
      FROM a JOIN (VALUES ${values}) b(key, metric, target, bonus) ON b.key = a.badge_key JOIN users u ON u.id = a.user_id
      RETURNING user_id, amount, status)
    UPDATE users u SET total_points = u.total_points + c.points
    FROM (SELECT user_id, sum(amount)::int AS points FROM r WHERE status = 'COMPLETED' GROUP BY user_id) c WHERE u.id = c.user_id`;
}

/**
 * Undoes every badge: awards, bonuses and the points they credited (setup, not measured). Users
 * keep their updated_at: the bench's own undoing is not activity a badge pass should look at.
 */
export async function resetBadges(db: Db): Promise<void> {
  await db.$transaction([
    db.$executeRaw`UPDATE users u SET total_points = u.total_points - b.points
      FROM (SELECT user_id, sum(amount)::int AS points FROM rewards WHERE kind = 'BADGE_BONUS' AND status = 'COMPLETED' GROUP BY user_id) b
      WHERE u.id = b.user_id`,
    db.$executeRaw`DELETE FROM rewards WHERE kind = 'BADGE_BONUS'`,
    db.$executeRaw`DELETE FROM notifications WHERE kind = 'BADGE_EARNED'`,
    db.$executeRaw`DELETE FROM badge_awards`,
  ], { timeout: 600_000 });
}

/** What autovacuum does between a system's busy moments, after the bench's own bulk changes. */
export async function vacuum(db: Db, tables: string[]): Promise<void> {
  await db.$executeRawUnsafe(`VACUUM (ANALYZE) ${tables.join(', ')}`);
}

/** Closure of one case in two statements: status, top 3, every reward, the credit, the settlement (its participants are told after, as Verdict's are). */
export async function closureFloor(db: Db, caseId: string, now: Date): Promise<void> {
  const [c] = await db.$queryRaw<{ pool: number; creator_id: string | null; side: 'A' | 'B'; a: number; b: number; participants: number; placed: number }[]>`
    SELECT c.reward_pool AS pool, c.creator_id, r.side,
      (SELECT count(*) FROM votes WHERE case_id = c.id AND side = 'A')::int AS a,
      (SELECT count(*) FROM votes WHERE case_id = c.id AND side = 'B')::int AS b,
      (SELECT count(*) FROM (SELECT user_id FROM votes WHERE case_id = c.id UNION SELECT user_id FROM arguments WHERE case_id = c.id) p)::int AS participants,
      least(3, (SELECT count(*) FROM arguments WHERE case_id = c.id AND upvote_count >= 1))::int AS placed
    FROM cases c JOIN sealed_rulings r ON r.case_id = c.id WHERE c.id = ${caseId}::uuid`;
  const winners = c!.side === 'A' ? c!.a : c!.b;
  const shares = computeShares({
    pool: c!.pool, winners, participants: c!.participants, topArguments: c!.placed,
    creatorEligible: c!.creator_id !== null && c!.participants >= CREATOR_MIN_PARTICIPANTS,
  });
  const [first, second, third] = shares.topArgument;
  await db.$transaction(async (tx) => {
    // As Verdict's closure: without JIT, whose compiling costs more than these statements.
    await tx.$queryRaw`SELECT set_config('jit', 'off', true)`;
    await tx.$executeRaw`
      WITH top AS (
        SELECT id, user_id, row_number() OVER (ORDER BY upvote_count DESC, created_at, id) AS place
        FROM arguments WHERE case_id = ${caseId}::uuid AND upvote_count >= 1 ORDER BY upvote_count DESC, created_at, id LIMIT 3),
      closed AS (UPDATE cases SET status = 'CLOSED', closed_at = ${now} WHERE id = ${caseId}::uuid),
      placed AS (UPDATE arguments a SET top_rank = top.place FROM top WHERE a.id = top.id),
      lines AS (
        SELECT user_id, 'WINNING_VOTE'::"RewardKind" AS kind, ${shares.perWinner}::int AS amount FROM votes WHERE case_id = ${caseId}::uuid AND side = ${c!.side}::"Side"
        UNION ALL SELECT user_id, 'TOP_ARGUMENT', (ARRAY[${first}::int, ${second}::int, ${third}::int])[place] FROM top
        UNION ALL SELECT user_id, 'PARTICIPATION', ${shares.perParticipant}::int FROM (
          SELECT user_id FROM votes WHERE case_id = ${caseId}::uuid UNION SELECT user_id FROM arguments WHERE case_id = ${caseId}::uuid) p
        UNION ALL SELECT ${c!.creator_id}::uuid, 'CREATOR', ${shares.creator}::int WHERE ${shares.creator}::int > 0),
      paid AS (
        INSERT INTO rewards (user_id, case_id, kind, amount, status, completed_at, payout_address)
        SELECT l.user_id, ${caseId}::uuid, l.kind, l.amount, CASE WHEN u.wallet_address IS NULL THEN 'COMPLETED' ELSE 'PENDING' END::"RewardStatus",
          CASE WHEN u.wallet_address IS NULL THEN ${now}::timestamptz END, u.wallet_address
        FROM lines l JOIN users u ON u.id = l.user_id WHERE l.amount > 0
        RETURNING user_id, amount, status),
      credited AS (
        UPDATE users u SET total_points = u.total_points + s.points
        FROM (SELECT user_id, sum(amount)::int AS points FROM paid WHERE status = 'COMPLETED' GROUP BY user_id) s WHERE u.id = s.user_id)
      INSERT INTO case_settlements (case_id, pool, winning_side, winner_count, participant_count, votes_a, votes_b, paid, treasury)
      VALUES (${caseId}::uuid, ${c!.pool}, ${c!.side}::"Side", ${winners}, ${c!.participants}, ${c!.a}, ${c!.b}, ${shares.paid}, ${shares.treasury})`;
  }, { timeout: 600_000 });
}

export interface ClosureCaseShape {
  voters: number;
  arguments: number;
  upvotes: number;
}

/** Enough points that every voter's share is at least one point. */
const poolFor = (shape: ClosureCaseShape) => 100 * Math.max(10, shape.voters);

/**
 * An OPEN, due case whose voters are drawn from the existing users, with arguments by some of
 * them and upvotes by others (setup, not measured).
 */
export async function createDueCase(db: Db, shape: ClosureCaseShape, now: Date): Promise<string> {
  const caseId = randomUUID();
  await db.$transaction([
    db.$executeRaw`INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source, status, opens_at, closes_at, reward_pool, commitment, commitment_status)
      VALUES (${caseId}::uuid, 'Bench closure', repeat('A dilemma for the closure benchmark. ', 8), 'Keep', 'Return', 'AI', 'OPEN',
        ${new Date(now.getTime() - 2 * DAY)}, ${new Date(now.getTime() - 60_000)}, ${poolFor(shape)}, ${`0x${randomBytes(32).toString('hex')}`}, 'VERIFIED')`,
    db.$executeRaw`INSERT INTO sealed_rulings (case_id, side, reasoning, salt, judge) VALUES (${caseId}::uuid, 'A', 'Bench ruling', ${randomBytes(32)}, 'bench')`,
    db.$executeRaw`INSERT INTO votes (case_id, user_id, side, created_at)
      SELECT ${caseId}::uuid, id, CASE WHEN random() < 0.5 THEN 'A' ELSE 'B' END::"Side", ${new Date(now.getTime() - DAY)}
      FROM users ORDER BY random() LIMIT ${shape.voters}`,
    db.$executeRaw`INSERT INTO arguments (case_id, user_id, side, body, created_at)
      SELECT case_id, user_id, side, 'An argument for the closure benchmark.', created_at + random() * interval '1 hour'
      FROM votes WHERE case_id = ${caseId}::uuid LIMIT ${shape.arguments}`,
    // Argument n gets 1 to 2k-1 upvotes (k = upvotes per argument), from voters other than its author.
    db.$executeRaw`WITH a AS (SELECT id, user_id, row_number() OVER (ORDER BY id) AS n FROM arguments WHERE case_id = ${caseId}::uuid),
      v AS (SELECT user_id, row_number() OVER (ORDER BY user_id) - 1 AS n FROM votes WHERE case_id = ${caseId}::uuid),
      pairs AS (SELECT a.id, a.user_id AS author, (a.n * 7 + g) % (SELECT count(*) FROM v) AS voter
        FROM a, generate_series(0, (a.n * 7919) % (2 * ${Math.max(1, Math.round(shape.upvotes / Math.max(1, shape.arguments)))} - 1)) g)
      INSERT INTO argument_upvotes (argument_id, user_id)
      SELECT p.id, v.user_id FROM pairs p JOIN v ON v.n = p.voter WHERE v.user_id <> p.author
      ON CONFLICT DO NOTHING`,
    db.$executeRaw`UPDATE arguments a SET upvote_count = u.n FROM (
      SELECT argument_id, count(*)::int AS n FROM argument_upvotes GROUP BY argument_id) u
      WHERE a.id = u.argument_id AND a.case_id = ${caseId}::uuid`,
  ], { timeout: 600_000 });
  return caseId;
}

/** Undoes a closure so the same case can be closed again (setup, not measured). */
export async function reopenCase(db: Db, caseId: string): Promise<void> {
  await db.$transaction([
    db.$executeRaw`UPDATE users u SET total_points = u.total_points - s.points FROM (
      SELECT user_id, sum(amount)::int AS points FROM rewards WHERE case_id = ${caseId}::uuid AND status = 'COMPLETED' GROUP BY user_id) s
      WHERE u.id = s.user_id`,
    db.$executeRaw`DELETE FROM rewards WHERE case_id = ${caseId}::uuid`,
    db.$executeRaw`DELETE FROM case_settlements WHERE case_id = ${caseId}::uuid`,
    db.$executeRaw`DELETE FROM notifications WHERE kind = 'CASE_CLOSED' AND subject_id = ${caseId}::uuid`,
    db.$executeRaw`UPDATE arguments SET top_rank = NULL WHERE case_id = ${caseId}::uuid AND top_rank IS NOT NULL`,
    db.$executeRaw`UPDATE cases SET status = 'OPEN', closed_at = NULL WHERE id = ${caseId}::uuid`,
  ], { timeout: 600_000 });
}

/** Removes a benchmark case and everything it paid. */
export async function dropCase(db: Db, caseId: string): Promise<void> {
  await reopenCase(db, caseId);
  await db.$executeRaw`DELETE FROM cases WHERE id = ${caseId}::uuid`;
}

/**
 * The analytics rows of the UTC days first..last (midnights) by hand, in one statement: each
 * figure a correlated aggregate per day over the same indexed ranges, retention by EXISTS.
 */
export async function analyticsFloor(db: Db, first: Date, last: Date, now: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO daily_stats (day, new_users, active_users, votes, arguments, upvotes, cases_opened, cases_closed,
      points_off_chain, points_on_chain, crowd_agreement, median_participants, retention_day1, retention_day7, computed_at, run_id)
    SELECT d::date,
      (SELECT count(*) FROM users WHERE created_at >= d AND created_at < d + interval '1 day'),
      (SELECT count(*) FROM (SELECT user_id FROM votes_all WHERE created_at >= d AND created_at < d + interval '1 day'
        UNION SELECT user_id FROM arguments WHERE created_at >= d AND created_at < d + interval '1 day'
        UNION SELECT user_id FROM argument_upvotes_all WHERE created_at >= d AND created_at < d + interval '1 day') a),
      (SELECT count(*) FROM votes_all WHERE created_at >= d AND created_at < d + interval '1 day'),
      (SELECT count(*) FROM arguments WHERE created_at >= d AND created_at < d + interval '1 day'),
      (SELECT count(*) FROM argument_upvotes_all WHERE created_at >= d AND created_at < d + interval '1 day'),
      (SELECT count(*) FROM cases WHERE opens_at >= d AND opens_at < d + interval '1 day' AND status IN ('OPEN', 'CLOSED')),
      (SELECT count(*) FROM cases WHERE closed_at >= d AND closed_at < d + interval '1 day'),
      (SELECT coalesce(sum(amount), 0) FROM rewards WHERE status = 'COMPLETED' AND payout_tx_id IS NULL AND completed_at >= d AND completed_at < d + interval '1 day'),
      (SELECT coalesce(sum(amount), 0) FROM rewards WHERE status = 'COMPLETED' AND payout_tx_id IS NOT NULL AND completed_at >= d AND completed_at < d + interval '1 day'),
      (SELECT avg(CASE WHEN s.votes_a > s.votes_b THEN (s.winning_side = 'A')::int WHEN s.votes_b > s.votes_a THEN (s.winning_side = 'B')::int END)
        FROM cases c JOIN case_settlements s ON s.case_id = c.id WHERE s.outcome = 'SETTLED' AND c.closed_at >= d AND c.closed_at < d + interval '1 day'),
      (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s.participant_count)
        FROM cases c JOIN case_settlements s ON s.case_id = c.id WHERE c.closed_at >= d AND c.closed_at < d + interval '1 day'),
      CASE WHEN d + interval '2 days' <= ${now}::timestamptz THEN (SELECT avg((EXISTS (
          SELECT 1 FROM votes_all WHERE user_id = u.id AND created_at >= d + interval '1 day' AND created_at < d + interval '2 days'
          UNION ALL SELECT 1 FROM arguments WHERE user_id = u.id AND created_at >= d + interval '1 day' AND created_at < d + interval '2 days'
          UNION ALL SELECT 1 FROM argument_upvotes_all WHERE user_id = u.id AND created_at >= d + interval '1 day' AND created_at < d + interval '2 days'))::int)
        FROM users u WHERE u.created_at >= d AND u.created_at < d + interval '1 day') END,
      CASE WHEN d + interval '8 days' <= ${now}::timestamptz THEN (SELECT avg((EXISTS (
          SELECT 1 FROM votes_all WHERE user_id = u.id AND created_at >= d + interval '7 days' AND created_at < d + interval '8 days'
          UNION ALL SELECT 1 FROM arguments WHERE user_id = u.id AND created_at >= d + interval '7 days' AND created_at < d + interval '8 days'
          UNION ALL SELECT 1 FROM argument_upvotes_all WHERE user_id = u.id AND created_at >= d + interval '7 days' AND created_at < d + interval '8 days'))::int)
        FROM users u WHERE u.created_at >= d AND u.created_at < d + interval '1 day') END,
      ${now}, NULL
    FROM generate_series(${first}::timestamptz, ${last}::timestamptz, interval '1 day') d
    ON CONFLICT (day) DO UPDATE SET new_users = EXCLUDED.new_users, active_users = EXCLUDED.active_users, votes = EXCLUDED.votes,
      arguments = EXCLUDED.arguments, upvotes = EXCLUDED.upvotes, cases_opened = EXCLUDED.cases_opened, cases_closed = EXCLUDED.cases_closed,
      points_off_chain = EXCLUDED.points_off_chain, points_on_chain = EXCLUDED.points_on_chain, crowd_agreement = EXCLUDED.crowd_agreement,
      median_participants = EXCLUDED.median_participants, retention_day1 = EXCLUDED.retention_day1, retention_day7 = EXCLUDED.retention_day7,
      computed_at = EXCLUDED.computed_at, run_id = EXCLUDED.run_id`;
}
