import { signIn, signUp } from '../../domain/accounts.js';
import { issueSessionToken } from '../../domain/sessions.js';
import { connectWallet, walletChallenge } from '../../domain/wallets.js';
import { builder } from '../builder.js';

interface Session {
  token: string;
  expiresAt: Date;
  userId: string;
}

const AuthPayload = builder.objectRef<Session>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'Send as `Authorization: Bearer <token>`, or as `authorization` in WebSocket connection params.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    user: t.prismaField({
      type: 'User',
      resolve: (query, session, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: session.userId } }),
    }),
  }),
});

const Credentials = builder.inputType('CredentialsInput', {
  fields: (t) => ({
    handle: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: Credentials, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const user = await signUp(ctx.db, ctx.config, input);
      return { ...(await issueSessionToken(ctx.sessions, user.id)), userId: user.id };
    },
  }),
  signIn: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: Credentials, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const user = await signIn(ctx.db, ctx.config, input);
      return { ...(await issueSessionToken(ctx.sessions, user.id)), userId: user.id };
    },
  }),
}));

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user, or null.',
    resolve: (query, _root, _args, ctx) =>
      ctx.viewer ? ctx.db.user.findUnique({ ...query, where: { id: ctx.viewer.id } }) : null,
  }),
}));

const WalletChallenge = builder.objectRef<{ message: string; expiresAt: Date }>('WalletChallenge').implement({
  fields: (t) => ({
    message: t.exposeString('message', { description: 'An EIP-4361 message: sign it with the wallet, unchanged.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

builder.mutationFields((t) => ({
  walletChallenge: t.field({
    type: WalletChallenge,
    authScopes: { signedIn: true },
    description: 'A Sign-In with Ethereum message with a one-time nonce, valid for 10 minutes.',
    args: { address: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      walletChallenge(ctx.db, ctx.viewer!.id, args.address, { publicUrl: ctx.config.PUBLIC_URL, chainId: ctx.chain.chainId }),
  }),
  connectWallet: t.prismaField({
    type: 'User',
    authScopes: { signedIn: true },
    description: 'Link the wallet that signed a walletChallenge message.',
    args: { message: t.arg.string({ required: true }), signature: t.arg.string({ required: true }) },
    resolve: (_query, _root, args, ctx) =>
      connectWallet(ctx.db, ctx.viewer!.id, args.message, args.signature, {
        publicUrl: ctx.config.PUBLIC_URL,
        chainId: ctx.chain.chainId,
      }),
  }),
}));
