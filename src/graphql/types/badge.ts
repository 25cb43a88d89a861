import { filter, pipe } from 'graphql-yoga';
import { badgeProgress, recentAwards, type BadgeAwarded, type BadgeProgress } from '../../domain/badges-award.js';
import { BADGES, badgeByKey, type BadgeDefinition } from '../../domain/badges.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { MAX_PAGE } from '../paging.js';
import { publicSubscription } from '../../subscriptions/public.js';

export const Badge = builder.objectRef<BadgeDefinition>('Badge').implement({
  description: 'A badge anyone can earn, once, with a bonus of points.',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Stable identifier, such as `first_win`.' }),
    name: t.exposeString('name', { description: 'Display name, such as "First Victory".' }),
    icon: t.exposeString('icon', { description: 'An emoji.' }),
    description: t.exposeString('description', { description: 'How to earn it, such as "Win 1 case".' }),
    target: t.exposeInt('target', { description: 'How many (wins, votes …) it takes.' }),
    bonus: t.exposeInt('bonus', { description: 'Points awarded once with the badge.' }),
  }),
});

builder.queryFields((t) => ({
  badges: t.field({ type: [Badge], description: 'Every badge there is.', resolve: () => BADGES }),
}));

builder.prismaObject('BadgeAward', {
  description: 'A badge a user earned.',
  fields: (t) => ({
    badge: t.field({ type: Badge, description: 'The badge.', select: { badgeKey: true }, resolve: (a) => badgeByKey.get(a.badgeKey)! }),
    awardedAt: t.expose('awardedAt', { type: 'DateTime', description: 'When it was awarded.' }),
  }),
});

const Progress = builder.objectRef<BadgeProgress>('BadgeProgress').implement({
  description: 'How far a user is towards a badge.',
  fields: (t) => ({
    badge: t.field({ type: Badge, description: 'The badge.', resolve: (p) => p.badge }),
    earned: t.exposeBoolean('earned', { description: 'Awarded already.' }),
    earnedAt: t.expose('earnedAt', { type: 'DateTime', nullable: true, description: 'When it was awarded; null before.' }),
    current: t.exposeInt('current', { description: 'Done so far, at most target.' }),
    target: t.exposeInt('target', { description: 'What the badge takes.' }),
    text: t.exposeString('text', { description: 'Such as "2/5 wins".' }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  badges: t.relation('badges', { description: 'Badges earned, oldest first.', query: { orderBy: { awardedAt: 'asc' } } }),
  badgeProgress: t.field({ type: [Progress], description: 'Progress towards every badge.', resolve: (user, _args, ctx) => badgeProgress(ctx.db, user.id) }),
}));

const Awarded = builder.objectRef<BadgeAwarded>('BadgeAwarded').implement({
  description: 'A badge just awarded to a user.',
  fields: (t) => ({
    handle: t.exposeString('handle', { description: 'Who earned it.' }),
    badge: t.field({ type: Badge, description: 'The badge.', resolve: (a) => badgeByKey.get(a.badgeKey)! }),
    awardedAt: t.field({ type: 'DateTime', description: 'When it was awarded.', resolve: (a) => new Date(a.awardedAt) }),
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
    args: { userHandle: t.arg.string({ description: 'Only this user’s badges (case-insensitive); every user’s when left out.' }) },
    subscribe: (_root, args, ctx) => {
      const events = ctx.pubsub.subscribe('badgeAwarded');
      const handle = args.userHandle?.trim().toLowerCase();
      return handle ? pipe(events, filter((a: BadgeAwarded) => a.handle === handle)) : events;
    },
    resolve: (award) => award,
  }),
}));
