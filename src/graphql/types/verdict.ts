import { verifyVerdict, type VerdictVerification } from '../../domain/verification.js';
import { Side } from '../../generated/prisma/enums.js';
import { builder } from '../builder.js';
import { rowId } from '../ids.js';

type Verification = VerdictVerification & {
  committedAt: Date | null;
  revealableFrom: Date | null;
  revealedAt: Date | null;
  revealedSide: 'A' | 'B' | null;
  ledgerRoot: string | null;
};

const Verification = builder.objectRef<Verification>('VerdictVerification').implement({
  description: 'A ruling checked three ways: the commitment Verdict stored, the registry’s, and (after closure) one recomputed from the revealed ruling.',
  fields: (t) => ({
    case: t.prismaField({
      type: 'Case',
      description: 'The case checked.',
      resolve: (query, v, _args, ctx) => ctx.db.case.findUniqueOrThrow({ ...query, where: { id: v.caseId } }),
    }),
    revealed: t.exposeBoolean('revealed', { description: 'Whether the ruling and salt are published (the case is closed).' }),
    commitment: t.exposeString('storedCommitment', { nullable: true, description: 'The commitment Verdict stored.' }),
    onChainCommitment: t.exposeString('onChainCommitment', { nullable: true, description: 'What the registry holds for this case.' }),
    transactionHash: t.exposeString('transactionHash', { nullable: true, description: 'The commitment transaction; null before it is sent.' }),
    blockNumber: t.string({ nullable: true, description: 'The block that included the commitment (decimal); null before.', resolve: (v) => v.blockNumber?.toString() ?? null }),
    recomputedCommitment: t.exposeString('recomputedCommitment', {
      nullable: true,
      description: 'SHA-256 recomputed from the revealed ruling and salt; null before closure.',
    }),
    matches: t.exposeBoolean('matches', { nullable: true, description: 'Stored, on-chain and recomputed commitments all agree; null before closure.' }),
    disagreements: t.exposeStringList('disagreements', { description: 'Which commitments disagree; empty when all agree.' }),
    blockTimestamp: t.expose('blockTimestamp', { type: 'DateTime', nullable: true, description: 'Timestamp of the block that included the commitment.' }),
    committedAt: t.expose('committedAt', { type: 'DateTime', nullable: true, description: 'The commit block’s timestamp, as the registry recorded it.' }),
    revealableFrom: t.expose('revealableFrom', { type: 'DateTime', nullable: true, description: 'The closing time committed on chain: the registry refuses an earlier reveal.' }),
    revealedAt: t.expose('revealedAt', { type: 'DateTime', nullable: true, description: 'When the registry accepted the reveal; null before.' }),
    revealedSide: t.expose('revealedSide', { type: Side, nullable: true, description: 'The side the registry recorded at the reveal.' }),
    ledgerRoot: t.exposeString('ledgerRoot', { nullable: true, description: 'The ledger root the registry recorded at the reveal.' }),
    revealTransactionHash: t.exposeString('revealTransactionHash', { nullable: true, description: 'The transaction that revealed the ruling on chain; null before.' }),
    chainId: t.string({ description: 'The chain’s id (decimal).', resolve: (v) => v.chainId.toString() }),
    registryAddress: t.exposeString('registryAddress', { description: 'The VerdictRegistry contract read.' }),
  }),
});

const ChainInfo = builder.objectRef<{ chainId: bigint; registryAddress: string; tokenAddress: string; rpcUrl: string | null }>('ChainInfo').implement({
  description: 'The EVM chain Verdict uses, and its contracts there.',
  fields: (t) => ({
    chainId: t.string({ description: 'The chain’s id (decimal).', resolve: (c) => c.chainId.toString() }),
    registryAddress: t.exposeString('registryAddress', { description: 'The VerdictRegistry contract: commitments, reveals and ledger roots.' }),
    tokenAddress: t.exposeString('tokenAddress', { description: 'The ERC-20 points token paid to wallets.' }),
    rpcUrl: t.exposeString('rpcUrl', { nullable: true, description: 'Only for the local development chain.' }),
  }),
});

builder.queryFields((t) => ({
  verifyVerdict: t.field({
    type: Verification,
    nullable: true,
    description: 'Checks a case’s ruling against its commitment and the chain; null when there is no such case.',
    args: { caseId: t.arg.id({ required: true, description: 'Global id or uuid of the case.' }) },
    resolve: async (_root, args, ctx) => {
      const id = rowId('Case', args.caseId);
      const v = id ? await verifyVerdict(ctx.db, ctx.chain, id) : null;
      return v && {
        ...v,
        committedAt: v.registry.committedAt,
        revealableFrom: v.registry.closesAt,
        revealedAt: v.registry.revealedAt,
        revealedSide: v.registry.side,
        ledgerRoot: v.registry.ledgerRoot,
      };
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
