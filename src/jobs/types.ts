export const JOB_NAMES = ['case-generation', 'case-closure', 'tx-monitor', 'verdict-check', 'leaderboard', 'badges', 'topic-scan', 'analytics', 'cleanup', 'notifications'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** What a run reports; `summary` is stored with the run record. */
export interface JobResult {
  items: number;
  successes: number;
  failures: number;
  summary?: Record<string, unknown>;
  /** Set when the run finished its work but found something an operator must act on: it is recorded as FAILED. */
  error?: string;
}

export interface JobRunContext {
  now: Date;
  /** The job_runs row of this run (absent when a job is run outside the scheduler, e.g. a benchmark). */
  runId?: string;
  signal: AbortSignal;
  trigger: 'schedule' | 'manual' | 'cli';
}

/** A named, idempotent unit of background work. */
export interface Job<Deps> {
  name: JobName;
  /** Cron pattern (seconds allowed). */
  defaultSchedule: string;
  run(deps: Deps, ctx: JobRunContext): Promise<JobResult>;
}

export const DEFAULT_SCHEDULES: Record<JobName, string> = {
  'case-generation': '0 0 */12 * * *',
  'case-closure': '0 */5 * * * *',
  'tx-monitor': '*/30 * * * * *',
  'verdict-check': '0 */2 * * * *',
  leaderboard: '0 */15 * * * *',
  badges: '0 0 * * * *',
  'topic-scan': '0 30 * * * *',
  analytics: '0 5 0 * * *',
  cleanup: '0 30 3 * * *',
  notifications: '0 * * * * *',
};
