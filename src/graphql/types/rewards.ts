import { retryReward } from '../../domain/payouts.js';
import { RewardKind, RewardStatus } from '../../generated/prisma/enums.js';
import { notFound } from '../../errors.js';
import { builder } from '../builder.js';
import { allowed, whileAllowed, type Refused } from '../recheck.js';
import { isUuid } from '../ids.js';

builder.enumType(RewardKind, { name: 'RewardKind' });
builder.enumType(RewardStatus, { name: 'RewardStatus' });

builder.prismaObject('Reward', {
  description: 'Points owed to a user: PENDING → PROCESSING (payout sent) → COMPLETED or FAILED.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: RewardKind }),
    amount: t.exposeInt('amount'),
    status: t.expose('status', { type: RewardStatus }),
    case: t.relation('case', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
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
    args: { id: t.arg.id({ required: true }) },
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
