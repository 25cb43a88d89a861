import { encodeGlobalID } from '@pothos/plugin-relay';
import { leaderboard, rankOf, type LeaderboardEntry } from '../../domain/leaderboard.js';
import type { LeaderboardUpdate } from '../../events.js';
import { LeaderboardPeriod } from '../../generated/prisma/enums.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { publicSubscription } from '../../subscriptions/public.js';
import { MAX_PAGE } from '../paging.js';

const Period = builder.enumType(LeaderboardPeriod, { name: 'LeaderboardPeriod' });

const Entry = builder.objectRef<LeaderboardEntry>('LeaderboardEntry').implement({
  fields: (t) => ({
    rank: t.exposeInt('rank', { description: 'Ties share a rank; the next one skips (1, 2, 2, 4).' }),
    points: t.exposeInt('points'),
    handle: t.exposeString('handle'),
    userId: t.id({ resolve: (e) => encodeGlobalID('User', e.userId) }),
  }),
});

const Update = builder.objectRef<LeaderboardUpdate>('LeaderboardUpdate').implement({
  fields: (t) => ({
    period: t.field({ type: Period, resolve: (u) => u.period as LeaderboardPeriod }),
    computedAt: t.field({ type: 'DateTime', resolve: (u) => new Date(u.computedAt) }),
    entries: t.field({ type: [Entry], resolve: (u) => u.entries }),
  }),
});

builder.queryFields((t) => ({
  leaderboard: t.field({
    type: [Entry],
    description: 'The top of a period, from the cache the leaderboard job keeps.',
    args: { period: t.arg({ type: Period, required: true }), first: t.arg.int({ defaultValue: 20 }) },
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
    args: { period: t.arg({ type: Period, required: true }) },
    resolve: (user, args, ctx) => rankOf(ctx.db, user.id, args.period),
  }),
}));

builder.subscriptionFields((t) => ({
  leaderboardUpdated: t.field({
    type: Update,
    description: 'The new top entries of a period, each time the leaderboard job ran.',
    extensions: publicSubscription,
    args: { period: t.arg({ type: Period, required: true }) },
    subscribe: (_root, args, ctx) => ctx.pubsub.subscribe('leaderboardUpdated', args.period),
    resolve: (update) => update,
  }),
}));
