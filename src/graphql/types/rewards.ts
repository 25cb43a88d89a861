import { retryReward } from '../../domain/payouts.js';
import { RewardKind, RewardStatus } from '../../generated/prisma/enums.js';
import { notFound } from '../../errors.js';
import { builder } from '../builder.js';
import { allowed, whileAllowed, type Refused } from '../recheck.js';
import { isUuid } from '../ids.js';

builder.enumType(RewardKind, {
  name: 'RewardKind',
  description: 'What a reward is for.',
  values: {
    WINNING_VOTE: { description: 'A vote on the judge’s side: 40 % of the pool, shared equally.' },
    TOP_ARGUMENT: { description: 'A top-3 argument: 15, 9 or 6 % of the pool.' },
    PARTICIPATION: { description: 'Voting or arguing on the case: 20 % of the pool, shared equally.' },
    CREATOR: { description: 'Submitting a case that drew 100 participants or more: 10 % of the pool.' },
    BADGE_BONUS: { description: 'A badge’s bonus.' },
  },
});
builder.enumType(RewardStatus, {
  name: 'RewardStatus',
  description: 'Where a reward’s payout stands.',
  values: {
    PENDING: { description: 'Waiting for its payout.' },
    PROCESSING: { description: 'Its payout transaction is sent, not confirmed yet.' },
    COMPLETED: { description: 'Paid: its points count in totalPoints.' },
    FAILED: { description: 'The payout failed; an admin can retry it (retryReward).' },
  },
});

builder.prismaObject('Reward', {
  description: 'Points owed to a user: PENDING → PROCESSING (payout sent) → COMPLETED or FAILED.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The reward’s uuid (for retryReward).' }),
    kind: t.expose('kind', { type: RewardKind, description: 'What it is for.' }),
    amount: t.exposeInt('amount', { description: 'Points.' }),
    status: t.expose('status', { type: RewardStatus, description: 'Where its payout stands.' }),
    case: t.relation('case', { nullable: true, description: 'The case that paid it; null for a badge bonus.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was granted.' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When it was paid; null before.' }),
    payoutAddress: t.exposeString('payoutAddress', {
      nullable: true,
      description: 'The wallet this reward is paid to: the one linked when it was made, even if unlinked or replaced since. Null for rewards credited off-chain.',
    }),
    transactionHash: t.string({
      nullable: true,
      description: 'The payout transaction; null for rewards credited off-chain.',
      select: { payoutTx: { select: { hash: true } } },
      resolve: (reward) => reward.payoutTx?.hash ?? null,
    }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  rewards: t.relatedConnection('rewards', {
    cursor: 'id',
    nullable: true,
    description: 'Your own rewards, newest first (not visible to others).',
    authScopes: (user, _args, ctx) => ctx.viewer?.id === user.id,
    query: () => ({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    ownCursor: async (user: { id: string }, id, ctx) => (await ctx.db.reward.count({ where: { id, userId: user.id } })) === 1,
  }),
}));

builder.mutationFields((t) => ({
  retryReward: t.prismaField({
    type: 'Reward',
    authScopes: { admin: true },
    description: 'Queues a FAILED payout again; it is never paid twice.',
    args: { id: t.arg.id({ required: true, description: 'The reward’s uuid.' }) },
    resolve: (_query, _root, args, ctx) => {
      if (!isUuid(args.id)) throw notFound('Reward');
      return retryReward(ctx.db, args.id);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  myRewardUpdated: t.prismaField({
    type: 'Reward',
    authScopes: { signedIn: true },
    description: 'Your rewards as they are paid.',
    subscribe: (_root, _args, ctx) => whileAllowed(ctx, 'signedIn', ctx.pubsub.subscribe('rewardUpdated', ctx.viewer!.id)),
    resolve: (query, event: { rewardId: string } | Refused, _args, ctx) =>
      ctx.db.reward.findUniqueOrThrow({ ...query, where: { id: allowed(event).rewardId } }),
  }),
}));
