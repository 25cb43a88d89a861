import { filter, pipe } from 'graphql-yoga';
import { badgeProgress, type BadgeAwarded, type BadgeProgress } from '../../domain/badges-award.js';
import { BADGES, badgeByKey, type BadgeDefinition } from '../../domain/badges.js';
import { builder } from '../builder.js';
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
