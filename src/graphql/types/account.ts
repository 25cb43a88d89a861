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
  description: 'A new session: its bearer token and who it signs in.',
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'Send as `Authorization: Bearer <token>`, or as `authorization` in WebSocket connection params.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the token stops working (`SESSION_TTL_HOURS`, a week by default); sign in again then.' }),
    user: t.prismaField({
      type: 'User',
      description: 'The signed-in user.',
      resolve: (query, session, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: session.userId } }),
    }),
  }),
});

const Credentials = builder.inputType('CredentialsInput', {
  description: 'A handle and its password.',
  fields: (t) => ({
    handle: t.string({ required: true, description: '3–32 characters of a–z, 0–9 and _; case-insensitive.' }),
    password: t.string({ required: true, description: '10–256 characters.' }),
  }),
});

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    description: 'Creates an account and signs it in. A taken handle is refused (`HANDLE_TAKEN`).',
    args: { input: t.arg({ type: Credentials, required: true, description: 'The new handle and password.' }) },
    resolve: async (_root, { input }, ctx) => {
      const user = await signUp(ctx.db, ctx.config, input);
      return { ...(await issueSessionToken(ctx.sessions, user.id)), userId: user.id };
    },
  }),
  signIn: t.field({
    type: AuthPayload,
    description: 'Signs in with a handle and password; a wrong one of either is `INVALID_CREDENTIALS`.',
    args: { input: t.arg({ type: Credentials, required: true, description: 'The handle and password of the account.' }) },
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
  description: 'A message for the wallet to sign, to prove it is yours.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'An EIP-4361 message: sign it with the wallet, unchanged.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'Sign and connect before this (10 minutes).' }),
  }),
});

builder.mutationFields((t) => ({
  walletChallenge: t.field({
    type: WalletChallenge,
    authScopes: { signedIn: true },
    description: 'A Sign-In with Ethereum message with a one-time nonce, valid for 10 minutes.',
    args: { address: t.arg.string({ required: true, description: 'The wallet’s Ethereum address, 0x-hex.' }) },
    resolve: (_root, args, ctx) =>
      walletChallenge(ctx.db, ctx.viewer!.id, args.address, { publicUrl: ctx.config.PUBLIC_URL, chainId: ctx.chain.chainId }),
  }),
  connectWallet: t.prismaField({
    type: 'User',
    authScopes: { signedIn: true },
    description: 'Link the wallet that signed a walletChallenge message.',
    args: {
      message: t.arg.string({ required: true, description: 'The walletChallenge message, unchanged.' }),
      signature: t.arg.string({ required: true, description: 'The wallet’s personal_sign (EIP-191) signature of it, 0x-hex.' }),
    },
    resolve: (_query, _root, args, ctx) =>
      connectWallet(ctx.db, ctx.viewer!.id, args.message, args.signature, {
        publicUrl: ctx.config.PUBLIC_URL,
        chainId: ctx.chain.chainId,
      }),
  }),
}));
