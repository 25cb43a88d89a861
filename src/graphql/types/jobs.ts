import { AppError } from '../../errors.js';
import { JOB_NAMES, type JobName } from '../../jobs/types.js';
import { builder } from '../builder.js';
import { allowed, whileAllowed, type Refused } from '../recheck.js';

const JobNameEnum = builder.enumType('JobName', {
  values: Object.fromEntries(JOB_NAMES.map((name) => [name.toUpperCase().replaceAll('-', '_'), { value: name }])) as Record<
    string,
    { value: JobName }
  >,
});

const JobRunRef = builder.prismaObject('JobRun', {
  description: 'One run of a background job.',
  fields: (t) => ({
    id: t.exposeID('id'),
    job: t.field({ type: JobNameEnum, resolve: (run) => run.job as JobName }),
    trigger: t.exposeString('trigger'),
    status: t.exposeString('status', { description: 'RUNNING, SUCCEEDED, FAILED, or ABANDONED (its server died; see abandonedBy and finishedAt).' }),
    holder: t.exposeString('holder', { nullable: true, description: 'The server that ran it (host:pid:random).' }),
    abandonedBy: t.exposeString('abandonedBy', { nullable: true, description: 'For an ABANDONED run: the server that found its claim lapsed, at finishedAt.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    items: t.exposeInt('items'),
    successes: t.exposeInt('successes'),
    failures: t.exposeInt('failures'),
    error: t.exposeString('error', { nullable: true }),
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
  fields: (t) => ({
    name: t.expose('name', { type: JobNameEnum }),
    schedule: t.exposeString('schedule', { nullable: true, description: 'Cron pattern; null when the job is off.' }),
    running: t.exposeBoolean('running', { description: 'Running on this server now.' }),
    nextRunAt: t.expose('nextRunAt', { type: 'DateTime', nullable: true }),
    lastRun: t.field({ type: JobRunRef, nullable: true, resolve: (job) => job.lastRun as never }),
  }),
});

builder.queryFields((t) => ({
  jobs: t.field({
    type: [JobInfoRef],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.scheduler.describe(),
  }),
}));

builder.mutationFields((t) => ({
  runJob: t.field({
    type: JobRunRef,
    authScopes: { admin: true },
    description: 'Runs a job now and answers with its run record.',
    args: { name: t.arg({ type: JobNameEnum, required: true }) },
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
