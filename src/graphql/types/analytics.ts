import { addDays } from '../../domain/analytics.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';

const MAX_STATS_DAYS = 366;

/** A UTC day as `YYYY-MM-DD`, or a coded refusal naming the argument. */
function parseDay(value: string, field: string): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(NaN);
  if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) throw badInput(`${field} must be a day as YYYY-MM-DD`, field);
  return day;
}

const DailyStats = builder.prismaObject('DailyStat', {
  name: 'DailyStats',
  description: 'The platform on one UTC day (job analytics).',
  fields: (t) => ({
    day: t.string({ description: 'The UTC day, YYYY-MM-DD.', resolve: (s) => s.day.toISOString().slice(0, 10) }),
    newUsers: t.exposeInt('newUsers', { description: 'Users who signed up that day.' }),
    activeUsers: t.exposeInt('activeUsers', { description: 'Users who voted, argued or upvoted that day.' }),
    votes: t.exposeInt('votes', { description: 'Votes cast that day.' }),
    arguments: t.exposeInt('arguments', { description: 'Arguments submitted that day.' }),
    upvotes: t.exposeInt('upvotes', { description: 'Upvotes given that day.' }),
    casesOpened: t.exposeInt('casesOpened', { description: 'Cases that opened that day.' }),
    casesClosed: t.exposeInt('casesClosed', { description: 'Cases that closed that day.' }),
    pointsOffChain: t.exposeInt('pointsOffChain', { description: 'Points completed without a payout transaction.' }),
    pointsOnChain: t.exposeInt('pointsOnChain', { description: 'Points completed by a confirmed payout on chain.' }),
    crowdAgreement: t.exposeFloat('crowdAgreement', {
      nullable: true,
      description: "Share of the day's closed cases (with a majority) where the crowd sided with the judge.",
    }),
    medianParticipants: t.exposeFloat('medianParticipants', { nullable: true, description: "Median participants of the day's closed cases." }),
    retentionDay1: t.exposeFloat('retentionDay1', { nullable: true, description: "Share of the day's new users active the next day." }),
    retentionDay7: t.exposeFloat('retentionDay7', { nullable: true, description: "Share of the day's new users active seven days later." }),
    computedAt: t.expose('computedAt', { type: 'DateTime', description: 'When the analytics job last computed the row.' }),
    run: t.relation('run', { nullable: true, authScopes: { admin: true }, description: 'The analytics run that computed it (admins).' }),
  }),
});

builder.queryFields((t) => ({
  stats: t.prismaField({
    type: [DailyStats],
    description: 'Daily platform figures from `from` to `to` (inclusive, YYYY-MM-DD, at most 366 days), oldest first.',
    args: {
      from: t.arg.string({ required: true, description: 'The first day, YYYY-MM-DD (UTC).' }),
      to: t.arg.string({ required: true, description: 'The last day, YYYY-MM-DD (UTC), included: 366 days at most in all.' }),
    },
    resolve: (query, _root, args, ctx) => {
      const [from, to] = [parseDay(args.from, 'from'), parseDay(args.to, 'to')];
      if (to < from) throw badInput('to must not be before from', 'to');
      if (addDays(from, MAX_STATS_DAYS) <= to) throw badInput(`at most ${MAX_STATS_DAYS} days at once`, 'to');
      return ctx.db.dailyStat.findMany({ ...query, where: { day: { gte: from, lte: to } }, orderBy: { day: 'asc' } });
    },
  }),
  dailyReport: t.prismaField({
    type: DailyStats,
    nullable: true,
    authScopes: { admin: true },
    description: 'One day’s figures with the run that computed them (admins); null before the analytics job wrote it.',
    args: { day: t.arg.string({ required: true, description: 'The day, YYYY-MM-DD (UTC).' }) },
    resolve: (query, _root, args, ctx) => ctx.db.dailyStat.findUnique({ ...query, where: { day: parseDay(args.day, 'day') } }),
  }),
}));
