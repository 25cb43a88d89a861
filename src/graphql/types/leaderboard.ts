import { encodeGlobalID } from '@pothos/plugin-relay';
import { leaderboard, rankOf, type LeaderboardEntry } from '../../domain/leaderboard.js';
import type { LeaderboardUpdate } from '../../events.js';
import { LeaderboardPeriod } from '../../generated/prisma/enums.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { publicSubscription } from '../../subscriptions/public.js';
import { MAX_PAGE } from '../paging.js';

const Period = builder.enumType(LeaderboardPeriod, {
  name: 'LeaderboardPeriod',
  description: 'Which points a leaderboard counts.',
  values: {
    ALL_TIME: { description: 'All points of completed rewards.' },
    WEEKLY: { description: 'Points credited in the last 7 days.' },
    DAILY: { description: 'Points credited in the last 24 hours.' },
  },
});

const Entry = builder.objectRef<LeaderboardEntry>('LeaderboardEntry').implement({
  description: 'A user’s place on a leaderboard; ties are listed by handle.',
  fields: (t) => ({
    rank: t.exposeInt('rank', { description: 'Ties share a rank; the next one skips (1, 2, 2, 4).' }),
    points: t.exposeInt('points', { description: 'The user’s points in the period.' }),
    handle: t.exposeString('handle', { description: 'The user’s handle.' }),
    userId: t.id({ description: 'The user’s global id.', resolve: (e) => encodeGlobalID('User', e.userId) }),
  }),
});

const Update = builder.objectRef<LeaderboardUpdate>('LeaderboardUpdate').implement({
  description: 'A period’s leaderboard as a leaderboard job run left it.',
  fields: (t) => ({
    period: t.field({ type: Period, description: 'The period counted.', resolve: (u) => u.period as LeaderboardPeriod }),
    computedAt: t.field({ type: 'DateTime', description: 'When the job counted it.', resolve: (u) => new Date(u.computedAt) }),
    entries: t.field({ type: [Entry], description: 'The top 100 (fewer when fewer have points), best first.', resolve: (u) => u.entries }),
  }),
});

builder.queryFields((t) => ({
  leaderboard: t.field({
    type: [Entry],
    description: 'The top of a period, from the cache the leaderboard job keeps.',
    args: {
      period: t.arg({ type: Period, required: true, description: 'Which points to count.' }),
      first: t.arg.int({ defaultValue: 20, description: 'How many entries from the top: 1–100.' }),
    },
    resolve: (_root, args, ctx) => {
      const first = args.first ?? 20;
      if (first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`, 'first');
      return leaderboard(ctx.db, args.period, first);
    },
  }),
}));

builder.prismaObjectFields('User', (t) => ({
  rank: t.int({
    nullable: true,
    description: 'Rank in the period; null without points in it.',
    args: { period: t.arg({ type: Period, required: true, description: 'Which points to rank by.' }) },
    resolve: (user, args, ctx) => rankOf(ctx.db, user.id, args.period),
  }),
}));

builder.subscriptionFields((t) => ({
  leaderboardUpdated: t.field({
    type: Update,
    description: 'The new top entries of a period, each time the leaderboard job ran.',
    extensions: publicSubscription,
    args: { period: t.arg({ type: Period, required: true, description: 'The leaderboard to follow.' }) },
    subscribe: (_root, args, ctx) => ctx.pubsub.subscribe('leaderboardUpdated', args.period),
    resolve: (update) => update,
  }),
}));
