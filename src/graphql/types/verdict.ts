import { verifyVerdict, type VerdictVerification } from '../../domain/verification.js';
import { builder } from '../builder.js';
import { rowId } from '../ids.js';

const Verification = builder.objectRef<VerdictVerification>('VerdictVerification').implement({
  description: 'A ruling checked against the chain. Before closure only the chain side is shown.',
  fields: (t) => ({
    case: t.prismaField({
      type: 'Case',
      resolve: (query, v, _args, ctx) => ctx.db.case.findUniqueOrThrow({ ...query, where: { id: v.caseId } }),
    }),
    revealed: t.exposeBoolean('revealed', { description: 'Whether the ruling and salt are published (the case is closed).' }),
    commitment: t.exposeString('storedCommitment', { nullable: true, description: 'The commitment Verdict stored.' }),
    onChainCommitment: t.exposeString('onChainCommitment', { nullable: true, description: 'What the registry holds for this case.' }),
    transactionHash: t.exposeString('transactionHash', { nullable: true }),
    blockNumber: t.string({ nullable: true, resolve: (v) => v.blockNumber?.toString() ?? null }),
    recomputedCommitment: t.exposeString('recomputedCommitment', {
      nullable: true,
      description: 'SHA-256 recomputed from the revealed ruling and salt; null before closure.',
    }),
    matches: t.exposeBoolean('matches', { nullable: true, description: 'recomputedCommitment = onChainCommitment; null before closure.' }),
    chainId: t.string({ resolve: (v) => v.chainId.toString() }),
    registryAddress: t.exposeString('registryAddress'),
  }),
});

const ChainInfo = builder.objectRef<{ chainId: bigint; registryAddress: string; tokenAddress: string; rpcUrl: string | null }>('ChainInfo').implement({
  fields: (t) => ({
    chainId: t.string({ resolve: (c) => c.chainId.toString() }),
    registryAddress: t.exposeString('registryAddress'),
    tokenAddress: t.exposeString('tokenAddress'),
    rpcUrl: t.exposeString('rpcUrl', { nullable: true, description: 'Only for the local development chain.' }),
  }),
});

builder.queryFields((t) => ({
  verifyVerdict: t.field({
    type: Verification,
    nullable: true,
    args: { caseId: t.arg.id({ required: true, description: 'Global id or uuid of the case.' }) },
    resolve: (_root, args, ctx) => {
      const id = rowId('Case', args.caseId);
      return id ? verifyVerdict(ctx.db, ctx.chain, id) : null;
    },
  }),
  chain: t.field({
    type: ChainInfo,
    description: 'Where rulings are sealed and points paid.',
    resolve: (_root, _args, { chain }) => ({
      chainId: chain.chainId,
      registryAddress: chain.registryAddress,
      tokenAddress: chain.tokenAddress,
      rpcUrl: chain.dev ? chain.rpcUrl : null,
    }),
  }),
}));
