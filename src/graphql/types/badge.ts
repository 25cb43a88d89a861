import { filter, pipe } from 'graphql-yoga';
import { badgeProgress, recentAwards, type BadgeAwarded, type BadgeProgress } from '../../domain/badges-award.js';
import { BADGES, badgeByKey, type BadgeDefinition } from '../../domain/badges.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { MAX_PAGE } from '../paging.js';
import { publicSubscription } from '../../subscriptions/public.js';

export const Badge = builder.objectRef<BadgeDefinition>('Badge').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    icon: t.exposeString('icon'),
    description: t.exposeString('description'),
    target: t.exposeInt('target'),
    bonus: t.exposeInt('bonus', { description: 'Points awarded once with the badge.' }),
  }),
});

builder.queryFields((t) => ({
  badges: t.field({ type: [Badge], resolve: () => BADGES }),
}));

builder.prismaObject('BadgeAward', {
  fields: (t) => ({
    badge: t.field({ type: Badge, select: { badgeKey: true }, resolve: (a) => badgeByKey.get(a.badgeKey)! }),
    awardedAt: t.expose('awardedAt', { type: 'DateTime' }),
  }),
});

const Progress = builder.objectRef<BadgeProgress>('BadgeProgress').implement({
  fields: (t) => ({
    badge: t.field({ type: Badge, resolve: (p) => p.badge }),
    earned: t.exposeBoolean('earned'),
    earnedAt: t.expose('earnedAt', { type: 'DateTime', nullable: true }),
    current: t.exposeInt('current'),
    target: t.exposeInt('target'),
    text: t.exposeString('text', { description: 'Such as "2/5 wins".' }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  badges: t.relation('badges', { description: 'Badges earned, oldest first.', query: { orderBy: { awardedAt: 'asc' } } }),
  badgeProgress: t.field({ type: [Progress], resolve: (user, _args, ctx) => badgeProgress(ctx.db, user.id) }),
}));

const Awarded = builder.objectRef<BadgeAwarded>('BadgeAwarded').implement({
  fields: (t) => ({
    handle: t.exposeString('handle'),
    badge: t.field({ type: Badge, resolve: (a) => badgeByKey.get(a.badgeKey)! }),
    awardedAt: t.field({ type: 'DateTime', resolve: (a) => new Date(a.awardedAt) }),
  }),
});

builder.queryFields((t) => ({
  recentBadgeAwards: t.field({
    type: [Awarded],
    description: 'The latest badge awards, newest first: what `badgeAwarded` announced before you subscribed.',
    args: { first: t.arg.int({ defaultValue: 10, description: `How many (1–${MAX_PAGE}).` }) },
    resolve: (_root, args, ctx) => {
      const first = args.first ?? 10;
      if (first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`, 'first');
      return recentAwards(ctx.db, first);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  badgeAwarded: t.field({
    type: Awarded,
    description: 'Every badge awarded, or only those of one user.',
    extensions: publicSubscription,
    args: { userHandle: t.arg.string() },
    subscribe: (_root, args, ctx) => {
      const events = ctx.pubsub.subscribe('badgeAwarded');
      const handle = args.userHandle?.trim().toLowerCase();
      return handle ? pipe(events, filter((a: BadgeAwarded) => a.handle === handle)) : events;
    },
    resolve: (award) => award,
  }),
}));
