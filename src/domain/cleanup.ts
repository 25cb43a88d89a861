import type { Db } from '../db.js';

/** Rows deleted per statement: each statement stays short whatever has piled up. */
export const CLEANUP_CHUNK = 10_000;
/** Score samples of topics are kept this long (growth looks back one day). */
export const TOPIC_SCORES_KEEP_MS = 7 * 24 * 3600_000;
/** Leaderboard snapshots older than this go, except each period's newest. */
const SNAPSHOT_KEEP_MS = 3600_000;

export interface CleanupReport {
  walletChallenges: number;
  /** Sessions that expired or were revoked, and reset tokens expired or used. */
  sessions: number;
  passwordResets: number;
  jobRuns: number;
  leaderboardSnapshots: number;
  topicScores: number;
  /** Tables that lost rows, vacuumed and analysed afterwards. */
  vacuumed: string[];
}

/** Deletes what `chunk` selects (a statement returning at most CLEANUP_CHUNK rows) until nothing is left. */
async function inChunks(chunk: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let n = await chunk(); n > 0; n = await chunk()) total += n;
  return total;
}

/**
 * The cleanup job's tidying: expired or used wallet challenges, ended sessions, expired or used
 * password reset tokens, finished job runs older than
 * `jobRunsKeepDays`, leaderboard snapshots older than an hour (each period's newest stays, so
 * the leaderboard is never recomputed live because a job was off), topic score samples older than
 * a week. Each in bounded chunks; then VACUUM (ANALYZE) on every table that lost rows.
 */
export async function tidy(db: Db, now: Date, options: { jobRunsKeepDays: number; archivedCases?: number }): Promise<CleanupReport> {
  const runsBefore = new Date(now.getTime() - options.jobRunsKeepDays * 24 * 3600_000);
  const snapshotsBefore = new Date(now.getTime() - SNAPSHOT_KEEP_MS);
  const scoresBefore = new Date(now.getTime() - TOPIC_SCORES_KEEP_MS);
  const report: CleanupReport = {
    walletChallenges: await inChunks(() => db.$executeRaw`DELETE FROM wallet_nonces WHERE nonce IN (
      SELECT nonce FROM wallet_nonces WHERE expires_at < ${now} OR used_at IS NOT NULL LIMIT ${CLEANUP_CHUNK})`),
    sessions: await inChunks(() => db.$executeRaw`DELETE FROM sessions WHERE id IN (
      SELECT id FROM sessions WHERE expires_at < ${now} LIMIT ${CLEANUP_CHUNK})`) +
      await inChunks(() => db.$executeRaw`DELETE FROM sessions WHERE id IN (
      SELECT id FROM sessions WHERE revoked_at IS NOT NULL LIMIT ${CLEANUP_CHUNK})`),
    passwordResets: await inChunks(() => db.$executeRaw`DELETE FROM password_resets WHERE id IN (
      SELECT id FROM password_resets WHERE expires_at < ${now} OR used_at IS NOT NULL LIMIT ${CLEANUP_CHUNK})`),
    jobRuns: await inChunks(() => db.$executeRaw`DELETE FROM job_runs WHERE id IN (
      SELECT id FROM job_runs WHERE started_at < ${runsBefore} AND status <> 'RUNNING' LIMIT ${CLEANUP_CHUNK})`),
    // Cached tops go with their snapshot.
    leaderboardSnapshots: await db.$executeRaw`
      WITH old AS (
        SELECT period, computed_at FROM leaderboard_snapshots s WHERE s.computed_at < ${snapshotsBefore}
          AND s.computed_at < (SELECT max(computed_at) FROM leaderboard_snapshots n WHERE n.period = s.period)
      ),
      cache AS (DELETE FROM leaderboard_cache c USING old o WHERE c.period = o.period AND c.computed_at = o.computed_at)
      DELETE FROM leaderboard_snapshots s USING old o WHERE s.period = o.period AND s.computed_at = o.computed_at`,
    topicScores: await inChunks(() => db.$executeRaw`DELETE FROM topic_scores WHERE (topic_id, scanned_at) IN (
      SELECT topic_id, scanned_at FROM topic_scores WHERE scanned_at < ${scoresBefore} LIMIT ${CLEANUP_CHUNK})`),
    vacuumed: [],
  };
  const shrunk: Array<[number, string[]]> = [
    [options.archivedCases ?? 0, ['votes', 'argument_upvotes', 'votes_archive', 'argument_upvotes_archive']],
    [report.walletChallenges, ['wallet_nonces']],
    [report.sessions, ['sessions']],
    [report.passwordResets, ['password_resets']],
    [report.jobRuns, ['job_runs']],
    [report.leaderboardSnapshots, ['leaderboard_snapshots', 'leaderboard_cache']],
    [report.topicScores, ['topic_scores']],
  ];
  for (const [deleted, tables] of shrunk) {
    if (deleted === 0) continue;
    // Fixed table names, never input: VACUUM cannot take a parameter, nor run in a transaction.
    for (const table of tables) await db.$executeRawUnsafe(`VACUUM (ANALYZE) ${table}`);
    report.vacuumed.push(...tables);
  }
  return report;
}
