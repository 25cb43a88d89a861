import { disconnectWallet } from '../../domain/wallets.js';
import { builder } from '../builder.js';

builder.mutationFields((t) => ({
  disconnectWallet: t.prismaField({
    type: 'User',
    authScopes: { signedIn: true },
    description:
      'Unlink your wallet (NO_WALLET when none is linked). Rewards already waiting for a payout are still paid to it; later ones are credited off-chain until you link another.',
    resolve: (_query, _root, _args, ctx) => disconnectWallet(ctx.db, ctx.viewer!.id),
  }),
}));
