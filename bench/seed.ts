// A large, realistic community for the benchmarks, written set-based: each table is filled by one
// INSERT … SELECT over generate_series inside one transaction, so no row passes through Node.
// Sizes scale linearly with the number of users; at 1,000,000 users: 120 closed cases, ≈ 2.7M
// votes, ≈ 28k arguments, ≈ 78k upvotes, ≈ 4.0M rewards (≈ 2 min on PostgreSQL 15 defaults, 2 cores).
// Every case is settled exactly as src/domain/settlement.ts closeCase settles it (same ranks,
// same per-head amounts). Counts and amounts repeat from run to run; uuids do not.
import type { Db } from '../src/db.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { computeShares, CREATOR_MIN_PARTICIPANTS } from '../src/domain/settlement.js';

export interface SeedOptions {
  users: number;
  now?: Date;
  log?: (line: string) => void;
  /**
   * Points in each case's pool. Default: 1 per user (1,000 at 1,000 users, the product's default
   * pool). A fixed 1,000 would floor the winner and participant shares to 0 beyond a few thousand
   * voters per case, and closeCase writes no reward of 0 points.
   */
  rewardPool?: number;
}

export interface SeedSummary {
  users: number;
  cases: number;
  votes: number;
  arguments: number;
  upvotes: number;
  rewards: number;
  ms: number;
}

const CASES = 120;
const WALLET_SHARE = 0.3;
const BETA_SHARE = 0.05;
/** Users drawn per case: uniform in 1.0–3.5 % of all users (10k–35k at 1M); ≈ 3 % of draws repeat. */
const DRAWN_MIN = 0.01;
const DRAWN_SPREAD = 0.025;
/** Arguments per voter: 225 for the ≈ 21,700 votes of an average case at 1M users. */
const ARGUMENTS_PER_VOTER = 225 / 21_700;
/** A prime above any user count: `rank * STRIDE mod N` scatters activity ranks over user numbers. */
const STRIDE = 1_000_003;
const PASSWORD_HASH = 'scrypt$bench$not-a-real-hash';
const LOREM =
  'Suppose you found a wallet with a large sum of cash and the owner’s address inside. Returning it ' +
  'costs you a day of work; keeping it would pay a debt that has kept your family awake for months. ' +
  'Nobody saw you pick it up, and the owner is, by every account, very rich. Duty, need and fairness ' +
  'pull in different directions, and the court has to weigh what each side of the argument would cost ' +
  'the people involved, what it would say about the one who decides, and what kind of world it builds.';

const FILLED_TABLES = ['users', 'cases', 'sealed_rulings', 'votes', 'arguments', 'argument_upvotes', 'rewards', 'case_settlements'];

/** Replaces all data with a community of `options.users` users. */
export async function seed(db: Db, options: SeedOptions): Promise<SeedSummary> {
  const { users, now = new Date(), log = () => {} } = options;
  if (!Number.isInteger(users) || users < 1) throw new Error(`users must be a positive integer, not ${users}`);
  const pool = options.rewardPool ?? Math.max(1000, users);
  const started = performance.now();

  const step = async (label: string, run: () => Promise<number>, unit = 'rows'): Promise<number> => {
    const t = performance.now();
    const n = await run();
    const seconds = ((performance.now() - t) / 1000).toFixed(1);
    log(`  ${label.padEnd(22)} ${n.toLocaleString('en-US').padStart(10)} ${unit.padEnd(10)} ${seconds.padStart(6)} s`);
    return n;
  };

  // Every table but Prisma's migration history starts empty, whatever later migrations add.
  const [tables] = await db.$queryRaw<{ list: string }[]>`
    SELECT string_agg(format('%I', tablename), ', ') AS list FROM pg_tables
    WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`;
  await step('truncate', () => db.$executeRawUnsafe(`TRUNCATE ${tables!.list} RESTART IDENTITY CASCADE`));

  // One transaction: the temp tables (numbering of users, cases and voters) live on its
  // connection, setseed() makes random() repeatable, and a failure leaves nothing half-written.
  const counts = await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT setseed(0.20261129)`;
      const rebuild = await dropIndexesAndKeys(tx, FILLED_TABLES);

      await tx.$executeRaw`CREATE TEMP TABLE seed_users ON COMMIT DROP AS
        SELECT n, gen_random_uuid() AS id FROM generate_series(1, ${users}::int) n`;
      const userRows = await step('users', () => tx.$executeRaw`
        INSERT INTO users (id, handle, password_hash, wallet_address, is_beta_user, created_at, updated_at)
        SELECT id, 'user_' || n, ${PASSWORD_HASH},
          CASE WHEN random() < ${WALLET_SHARE}::float8 THEN '0x' || md5('wallet:' || n) || left(md5('wallet+:' || n), 8) END,
          random() < ${BETA_SHARE}::float8, t, t
        FROM (SELECT n, id, ${now}::timestamptz - random() * interval '90 days' AS t FROM seed_users) u`);

      // One case every 12 h, each open 24 h; the last one closed 12 h ago.
      await tx.$executeRaw`CREATE TEMP TABLE seed_cases ON COMMIT DROP AS
        SELECT n, gen_random_uuid() AS id,
          ${now}::timestamptz - interval '61 days' + (n - 1) * interval '12 hours' AS opens_at,
          round(${users}::int * (${DRAWN_MIN}::float8 + ${DRAWN_SPREAD}::float8 * random()))::int AS drawn,
          0.3 + 0.4 * random() AS share_a,
          (CASE WHEN random() < 0.5 THEN 'A' ELSE 'B' END)::"Side" AS ruling,
          decode(md5(random()::text) || md5(random()::text), 'hex') AS salt
        FROM generate_series(1, ${CASES}::int) n`;
      const caseRows = await step('cases', () => tx.$executeRaw`
        INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source, status, opens_at, closes_at,
          closed_at, reward_pool, commitment, commitment_status, verified_at, created_at)
        SELECT id, 'Bench dilemma #' || n, 'Case ' || n || '. ' || ${LOREM}, 'Keep it', 'Give it back', 'AI', 'CLOSED',
          opens_at, opens_at + interval '24 hours', opens_at + interval '24 hours', ${pool}::int,
          '0x' || encode(sha256(salt || ruling::text::bytea), 'hex'), 'VERIFIED',
          opens_at + interval '24 hours 1 minute', opens_at - interval '5 minutes'
        FROM seed_cases`);
      await tx.$executeRaw`
        INSERT INTO sealed_rulings (case_id, side, reasoning, salt, judge, created_at)
        SELECT id, ruling, 'Side ' || ruling || ' weighs more: ' || ${LOREM}, salt, 'bench', opens_at - interval '5 minutes'
        FROM seed_cases`;

      // Each case draws users with rank = N·u² (u uniform): a core of regulars votes on most
      // cases, the long tail once or twice, about a tenth never. Repeated draws are dropped.
      // pos numbers each case's voters in random order: the first ones write the arguments.
      await step('voters drawn', () => tx.$executeRaw`CREATE TEMP TABLE seed_votes ON COMMIT DROP AS
        SELECT d.case_n, c.id AS case_id, u.id AS user_id, d.side, d.created_at,
          row_number() OVER (PARTITION BY d.case_n ORDER BY random())::int AS pos,
          count(*) OVER (PARTITION BY d.case_n)::int AS voters
        FROM (
          SELECT DISTINCT ON (case_n, user_n) * FROM (
            SELECT c.n AS case_n,
              (floor(${users}::int * random() ^ 2)::bigint * ${STRIDE}::bigint % ${users}::int + 1)::int AS user_n,
              (CASE WHEN random() < c.share_a THEN 'A' ELSE 'B' END)::"Side" AS side,
              c.opens_at + random() * interval '23 hours 59 minutes' AS created_at
            FROM seed_cases c, generate_series(1, c.drawn)
          ) draws
          ORDER BY case_n, user_n
        ) d
        JOIN seed_cases c ON c.n = d.case_n
        JOIN seed_users u ON u.n = d.user_n`);
      await tx.$executeRaw`ANALYZE seed_votes`;
      const voteRows = await step('votes', () => tx.$executeRaw`
        INSERT INTO votes (case_id, user_id, side, created_at) SELECT case_id, user_id, side, created_at FROM seed_votes`);

      // Upvote counts are heavy-tailed (Pareto, mean ≈ 3, about half get none, a few get
      // thousands at 1M users) and capped by the other voters of the case.
      const argumentRows = await step('arguments', () => tx.$executeRaw`
        INSERT INTO arguments (case_id, user_id, side, body, upvote_count, created_at)
        SELECT v.case_id, v.user_id, v.side,
          'Argument ' || v.pos || ' on case ' || v.case_n || ': ' || left(${LOREM}, 20 + floor(random() * 400)::int),
          least(v.voters - 1, floor(1.5 * ((1 - random()) ^ -0.7 - 1)))::int,
          v.created_at + random() * (c.opens_at + interval '24 hours' - v.created_at) / 2
        FROM seed_votes v JOIN seed_cases c ON c.n = v.case_n
        WHERE v.pos <= ceil(v.voters * ${ARGUMENTS_PER_VOTER}::float8)`);

      // The upvoters of the argument at pos p are the voters at the next positions after
      // p + offset, wrapping around: distinct, never the author, and exactly upvote_count.
      const upvoteRows = await step('upvotes', () => tx.$executeRaw`
        WITH authored AS MATERIALIZED (
          SELECT a.id, a.created_at, a.upvote_count, v.case_n, v.pos, v.voters,
            c.opens_at + interval '24 hours' AS closes_at,
            floor(random() * (v.voters - a.upvote_count))::int AS offset_
          FROM arguments a
          JOIN seed_votes v ON v.case_id = a.case_id AND v.user_id = a.user_id
          JOIN seed_cases c ON c.n = v.case_n
          WHERE a.upvote_count > 0
        )
        INSERT INTO argument_upvotes (argument_id, user_id, created_at)
        SELECT a.id, v.user_id, a.created_at + random() * (a.closes_at - a.created_at)
        FROM authored a
        CROSS JOIN generate_series(1, a.upvote_count) k
        JOIN seed_votes v ON v.case_n = a.case_n AND v.pos = (a.pos - 1 + a.offset_ + k) % a.voters + 1`);

      // closeCase's ranking: the three most upvoted arguments (at least one upvote), ties by age, id.
      await step('top ranks', () => tx.$executeRaw`
        WITH ranked AS (
          SELECT id, row_number() OVER (PARTITION BY case_id ORDER BY upvote_count DESC, created_at ASC, id ASC) AS place
          FROM arguments WHERE upvote_count >= 1
        )
        UPDATE arguments a SET top_rank = ranked.place FROM ranked WHERE a.id = ranked.id AND ranked.place <= 3`);
      await tx.$executeRaw`ANALYZE votes, arguments`;

      // closeCase's counts, for all cases at once; the arithmetic is computeShares itself.
      const outcomes = await tx.$queryRaw<
        { case_id: string; pool: number; creator_id: string | null; ruling: 'A' | 'B'; votes_a: number; votes_b: number; participants: number; placed: number }[]
      >`
        SELECT c.id AS case_id, c.reward_pool AS pool, c.creator_id, r.side AS ruling,
          coalesce(v.votes_a, 0) AS votes_a, coalesce(v.votes_b, 0) AS votes_b,
          coalesce(p.participants, 0) AS participants, coalesce(t.placed, 0) AS placed
        FROM cases c
        JOIN sealed_rulings r ON r.case_id = c.id
        LEFT JOIN (SELECT case_id, count(*) FILTER (WHERE side = 'A')::int AS votes_a, count(*) FILTER (WHERE side = 'B')::int AS votes_b
                   FROM votes GROUP BY case_id) v ON v.case_id = c.id
        LEFT JOIN (SELECT case_id, count(*)::int AS participants
                   FROM (SELECT case_id, user_id FROM votes UNION SELECT case_id, user_id FROM arguments) u GROUP BY case_id) p ON p.case_id = c.id
        LEFT JOIN (SELECT case_id, count(*)::int AS placed FROM arguments WHERE top_rank IS NOT NULL GROUP BY case_id) t ON t.case_id = c.id`;
      const settled = outcomes.map((o) => {
        const winners = o.ruling === 'A' ? o.votes_a : o.votes_b;
        const shares = computeShares({
          pool: o.pool,
          winners,
          participants: o.participants,
          topArguments: o.placed,
          creatorEligible: o.creator_id !== null && o.participants >= CREATOR_MIN_PARTICIPANTS,
        });
        return { ...o, winners, ...shares };
      });
      if (settled.some((s) => s.creator > 0)) throw new Error('seeded cases have no creator: no CREATOR reward expected');
      const settledJson = JSON.stringify(settled);
      const shares = Prisma.sql`
        SELECT * FROM jsonb_to_recordset(${settledJson}::jsonb) AS s(case_id uuid, pool int, ruling "Side", winners int,
          participants int, votes_a int, votes_b int, "perWinner" int, "topArgument" int[], "perParticipant" int, paid int, treasury int)`;

      await step('settlements', () => tx.$executeRaw`
        INSERT INTO case_settlements (case_id, pool, winning_side, winner_count, participant_count, votes_a, votes_b, paid, treasury, created_at, notified_at)
        SELECT s.case_id, s.pool, s.ruling, s.winners, s.participants, s.votes_a, s.votes_b, s.paid, s.treasury, c.closed_at, c.closed_at
        FROM (${shares}) s JOIN cases c ON c.id = s.case_id`);

      // closeCase's reward lines, all credited (COMPLETED) when the case closed, wallet or not.
      const rewardRows = await step('rewards', () => tx.$executeRaw`
        INSERT INTO rewards (user_id, case_id, kind, amount, status, completed_at, created_at, updated_at)
        SELECT e.user_id, e.case_id, e.kind::"RewardKind", e.amount, 'COMPLETED', c.closed_at, c.closed_at, c.closed_at
        FROM (
          SELECT v.case_id, v.user_id, 'WINNING_VOTE' AS kind, s."perWinner" AS amount
            FROM votes v JOIN (${shares}) s ON s.case_id = v.case_id AND s.ruling = v.side
          UNION ALL
          SELECT a.case_id, a.user_id, 'TOP_ARGUMENT', s."topArgument"[a.top_rank]
            FROM arguments a JOIN (${shares}) s ON s.case_id = a.case_id WHERE a.top_rank IS NOT NULL
          UNION ALL
          SELECT p.case_id, p.user_id, 'PARTICIPATION', s."perParticipant"
            FROM (SELECT case_id, user_id FROM votes UNION SELECT case_id, user_id FROM arguments) p
            JOIN (${shares}) s ON s.case_id = p.case_id
        ) e
        JOIN cases c ON c.id = e.case_id
        WHERE e.amount > 0`);

      // Points as the closures credited them. A user joined before the first case they took part
      // in (it opened a day before it paid), up to four weeks earlier: still within the 90 days.
      await step('total points', () => tx.$executeRaw`
        UPDATE users u SET total_points = p.points, updated_at = p.last_paid,
          created_at = least(u.created_at, p.first_paid - interval '25 hours' - random() * interval '28 days')
        FROM (SELECT user_id, sum(amount)::int AS points, min(completed_at) AS first_paid, max(completed_at) AS last_paid
              FROM rewards WHERE status = 'COMPLETED' GROUP BY user_id) p
        WHERE u.id = p.user_id`);

      await step('indexes and keys', async () => {
        for (const sql of rebuild) await tx.$executeRawUnsafe(sql);
        return rebuild.length;
      }, 'rebuilt');
      return { users: userRows, cases: caseRows, votes: voteRows, arguments: argumentRows, upvotes: upvoteRows, rewards: rewardRows };
    },
    { maxWait: 60_000, timeout: 60 * 60_000 },
  );

  // Outside the transaction: VACUUM sets the visibility map (index-only scans) and hint bits.
  await step('vacuum (analyze)', async () => {
    await db.$executeRawUnsafe(`VACUUM (ANALYZE) ${FILLED_TABLES.join(', ')}`);
    return FILLED_TABLES.length;
  }, 'tables');
  return { ...counts, ms: Math.round(performance.now() - started) };
}

/**
 * Drops the tables' indexes, primary and unique keys and every foreign key touching them, and
 * returns the statements that recreate them as they were (foreign keys last). Kept up row by row,
 * the ~30 indexes on random uuids made the load about 4× slower at shared_buffers 128 MB; one
 * sorted build each and one validating join per foreign key at the end are cheap. DDL is
 * transactional: a failed seed restores them with everything else.
 */
async function dropIndexesAndKeys(tx: Pick<Db, '$queryRaw' | '$executeRawUnsafe'>, tables: string[]): Promise<string[]> {
  const objects = await tx.$queryRaw<{ drop: string; create: string }[]>`
    WITH t AS (SELECT unnest(${tables}::text[])::regclass AS oid)
    SELECT drop, "create" FROM (
      SELECT 1 AS stage, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
        format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS "create"
      FROM pg_constraint WHERE contype = 'f' AND (conrelid IN (SELECT oid FROM t) OR confrelid IN (SELECT oid FROM t))
      UNION ALL
      SELECT 2, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
        format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE contype IN ('p', 'u') AND conrelid IN (SELECT oid FROM t)
      UNION ALL
      SELECT 3, format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
      FROM pg_index i WHERE indrelid IN (SELECT oid FROM t)
        AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
    ) o ORDER BY stage`;
  for (const { drop } of objects) await tx.$executeRawUnsafe(drop);
  return objects.map((o) => o.create).reverse();
}
