import { AppError } from '../../errors.js';
import { JOB_NAMES, type JobName } from '../../jobs/types.js';
import { builder } from '../builder.js';
import { allowed, whileAllowed, type Refused } from '../recheck.js';

const JOB_DESCRIPTIONS: Record<JobName, string> = {
  'case-generation': 'The judge writes a case and rules on it; the ruling is sealed and committed on chain. Also takes pending cases further.',
  'case-closure': 'Closes due cases: top-3 arguments, rewards and settlement; then each one’s ledger and reveal.',
  'tx-monitor': 'Sends commitments, reveals and payouts, and follows their transactions until confirmed or failed.',
  'verdict-check': 'Checks each unsettled case’s commitment against its sealed ruling and the registry.',
  leaderboard: 'Recounts points, snapshots each period’s top 100 and publishes leaderboardUpdated.',
  badges: 'Awards badges and their bonus points; publishes badgeAwarded.',
  'topic-scan': 'Reads the configured feeds (`TOPIC_FEEDS`) for trending topics.',
  analytics: 'Computes the platform’s figures per UTC day (stats).',
  cleanup: 'Archives the votes of long-closed cases and deletes expired rows.',
  notifications: 'Publishes notifications left unpublished and mails e-mail digests.',
};

const JobNameEnum = builder.enumType('JobName', {
  description: 'A background job.',
  values: Object.fromEntries(
    JOB_NAMES.map((name) => [name.toUpperCase().replaceAll('-', '_'), { value: name, description: JOB_DESCRIPTIONS[name] }]),
  ) as Record<string, { value: JobName; description: string }>,
});

const JobRunRef = builder.prismaObject('JobRun', {
  description: 'One run of a background job.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The run’s uuid.' }),
    job: t.field({ type: JobNameEnum, description: 'The job that ran.', resolve: (run) => run.job as JobName }),
    trigger: t.exposeString('trigger', { description: 'What started it: `schedule`, `manual` (runJob) or `cli` (`npm run job`).' }),
    status: t.exposeString('status', { description: 'RUNNING, SUCCEEDED, FAILED, or ABANDONED (its server died; see abandonedBy and finishedAt).' }),
    holder: t.exposeString('holder', { nullable: true, description: 'The server that ran it (host:pid:random).' }),
    abandonedBy: t.exposeString('abandonedBy', { nullable: true, description: 'For an ABANDONED run: the server that found its claim lapsed, at finishedAt.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', description: 'When it started.' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true, description: 'When it ended; null while RUNNING.' }),
    items: t.exposeInt('items', { description: 'Items it took on (cases, transactions, users …).' }),
    successes: t.exposeInt('successes', { description: 'Items done.' }),
    failures: t.exposeInt('failures', { description: 'Items that failed; the others still went on.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why it FAILED or was ABANDONED; null otherwise.' }),
    result: t.string({ nullable: true, description: "The job's summary, as JSON.", resolve: (run) => (run.result === null ? null : JSON.stringify(run.result)) }),
  }),
});

interface JobInfo {
  name: JobName;
  schedule: string | null;
  running: boolean;
  nextRunAt: Date | null;
  lastRun: { id: string } | null;
}

const JobInfoRef = builder.objectRef<JobInfo>('Job').implement({
  description: 'A background job as this server runs it.',
  fields: (t) => ({
    name: t.expose('name', { type: JobNameEnum, description: 'Which job.' }),
    schedule: t.exposeString('schedule', { nullable: true, description: 'Cron pattern; null when the job is off.' }),
    running: t.exposeBoolean('running', { description: 'Running on this server now.' }),
    nextRunAt: t.expose('nextRunAt', { type: 'DateTime', nullable: true, description: 'Its next scheduled run; null when the job is off.' }),
    lastRun: t.field({ type: JobRunRef, nullable: true, description: 'Its latest run, on any server; null before the first.', resolve: (job) => job.lastRun as never }),
  }),
});

builder.queryFields((t) => ({
  jobs: t.field({
    type: [JobInfoRef],
    authScopes: { admin: true },
    description: 'Every background job with its schedule and latest run (admins).',
    resolve: (_root, _args, ctx) => ctx.scheduler.describe(),
  }),
}));

builder.mutationFields((t) => ({
  runJob: t.field({
    type: JobRunRef,
    authScopes: { admin: true },
    description: 'Runs a job now and answers with its run record.',
    args: { name: t.arg({ type: JobNameEnum, required: true, description: 'The job to run.' }) },
    resolve: async (_root, args, ctx) => {
      const outcome = await ctx.scheduler.runNow(args.name, 'manual');
      if ('skipped' in outcome) throw new AppError('JOB_BUSY', `${args.name} is running already`);
      return outcome;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  jobCompleted: t.prismaField({
    type: 'JobRun',
    authScopes: { admin: true },
    description: 'Every finished job run (admins).',
    subscribe: (_root, _args, ctx) => whileAllowed(ctx, 'admin', ctx.pubsub.subscribe('jobCompleted')),
    resolve: (query, event: { runId: string } | Refused, _args, ctx) =>
      ctx.db.jobRun.findUniqueOrThrow({ ...query, where: { id: allowed(event).runId } }),
  }),
}));
