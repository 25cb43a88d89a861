import { changePassword, deleteAccount, requestPasswordReset, resetPassword, signIn, signUp } from '../../domain/accounts.js';
import { issueSessionToken, revokeSessions } from '../../domain/sessions.js';
import { AppError } from '../../errors.js';
import type { Context } from '../../context.js';
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

/** A new session for the user, from the client of this request. */
const startSession = async (ctx: Context, userId: string): Promise<Session> => ({
  ...(await issueSessionToken(ctx.db, ctx.sessions, userId, new Date(), { address: ctx.clientAddress, userAgent: ctx.userAgent })),
  userId,
});

/** Revoked sessions end now: their open WebSocket subscriptions too, on every server. */
const revoked = (ctx: Context, sessionIds: string[]) => {
  if (sessionIds.length > 0) ctx.pubsub.publish('sessionsRevoked', { sessionIds });
  return sessionIds.length;
};

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    description: 'Create an account and start a session. A taken handle is `HANDLE_TAKEN`; the password: 10–256 characters, not a common one, not containing the handle (`WEAK_PASSWORD`).',
    args: { input: t.arg({ type: Credentials, required: true, description: 'The new handle and password.' }) },
    resolve: async (_root, { input }, ctx) => startSession(ctx, (await signUp(ctx.db, ctx.config, input)).id),
  }),
  signIn: t.field({
    type: AuthPayload,
    description: 'Start a session (each sign-in is a session of its own, listed in `me.sessions`); a wrong handle or password is `INVALID_CREDENTIALS`.',
    args: { input: t.arg({ type: Credentials, required: true, description: 'The handle and password of the account.' }) },
    resolve: async (_root, { input }, ctx) => startSession(ctx, (await signIn(ctx.db, ctx.config, input)).id),
  }),
  signOut: t.boolean({
    authScopes: { signedIn: true },
    description: "End this request's session: its token stops working at once, on every server.",
    resolve: async (_root, _args, ctx) => revoked(ctx, await revokeSessions(ctx.db, ctx.viewer!.id, { sessionId: ctx.viewer!.sessionId })) > 0,
  }),
  signOutEverywhere: t.int({
    authScopes: { signedIn: true },
    description: 'End every session of the signed-in user, this one included; returns how many ended.',
    resolve: async (_root, _args, ctx) => revoked(ctx, await revokeSessions(ctx.db, ctx.viewer!.id, {})),
  }),
  revokeSession: t.boolean({
    authScopes: { signedIn: true },
    description: 'End one of your sessions (an id from `me.sessions`). NOT_FOUND when it is not yours or has ended.',
    args: { id: t.arg.id({ required: true, description: 'The session, from `me.sessions`.' }) },
    resolve: async (_root, args, ctx) => {
      const id = String(args.id);
      const ended = /^[0-9a-f-]{36}$/i.test(id) ? await revokeSessions(ctx.db, ctx.viewer!.id, { sessionId: id }) : [];
      if (ended.length === 0) throw new AppError('NOT_FOUND', 'No session of yours with that id is active');
      return revoked(ctx, ended) > 0;
    },
  }),
  changePassword: t.boolean({
    authScopes: { signedIn: true },
    description: 'Change the password (the current one is asked again). Every other session ends; this one goes on.',
    args: {
      current: t.arg.string({ required: true, description: 'The password now.' }),
      next: t.arg.string({ required: true, description: 'The new password: 10–256 characters, not a common one, not containing the handle.' }),
    },
    resolve: async (_root, args, ctx) => {
      revoked(ctx, await changePassword(ctx.db, ctx.viewer!.id, ctx.viewer!.sessionId, args.current, args.next));
      return true;
    },
  }),
  requestPasswordReset: t.boolean({
    description:
      'Mail a one-time reset token (valid 30 minutes) to the accounts whose verified e-mail address this is. ' +
      'Always true: the answer says nothing about whether such an account exists. EMAIL_UNAVAILABLE when the server sends no e-mail.',
    args: { email: t.arg.string({ required: true, description: 'The verified address of the account.' }) },
    resolve: async (_root, args, ctx) => {
      if (!ctx.mailer) throw new AppError('EMAIL_UNAVAILABLE', 'This server sends no e-mail (SMTP_URL is not set)');
      await requestPasswordReset(ctx.db, ctx.mailer, ctx.log, args.email);
      return true;
    },
  }),
  resetPassword: t.boolean({
    description: 'Set a new password with a token from requestPasswordReset (once, within 30 minutes). Every session of the account ends; sign in again.',
    args: {
      token: t.arg.string({ required: true, description: 'The token from the e-mail.' }),
      password: t.arg.string({ required: true, description: 'The new password.' }),
    },
    resolve: async (_root, args, ctx) => {
      revoked(ctx, (await resetPassword(ctx.db, args.token, args.password)).revoked);
      return true;
    },
  }),
  deleteAccount: t.boolean({
    authScopes: { signedIn: true },
    description:
      'Delete your account (your password is asked again). Your handle becomes a tombstone (`deleted_…`); your password, e-mail, sessions, ' +
      'wallet link and notifications are erased. Votes, rewards and placed arguments of closed cases stay, anonymous, so results still add up.',
    args: { password: t.arg.string({ required: true, description: 'Your password.' }) },
    resolve: async (_root, args, ctx) => {
      revoked(ctx, (await deleteAccount(ctx.db, ctx.viewer!.id, args.password)).revoked);
      return true;
    },
  }),
}));

interface SessionRow {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  clientAddress: string | null;
  userAgent: string | null;
}

const SessionInfo = builder.objectRef<SessionRow & { current: boolean }>('Session').implement({
  description: 'A signed-in session of yours: each sign-in or sign-up starts one.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Give it to revokeSession to end it.' }),
    current: t.exposeBoolean('current', { description: 'Whether this request came with this session.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it started.' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', description: 'When it was last used (to the minute).' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When its token stops working unless revoked earlier.' }),
    clientAddress: t.exposeString('clientAddress', { nullable: true, description: 'The address it started from.' }),
    userAgent: t.exposeString('userAgent', { nullable: true, description: 'The User-Agent it started with.' }),
  }),
});

builder.prismaObjectField('User', 'sessions', (t) =>
  t.field({
    type: [SessionInfo],
    // Null (with FORBIDDEN) on anyone else, as every field that is yours only.
    nullable: true,
    description: 'Your active sessions, newest first (only on yourself: `me { sessions { … } }`).',
    authScopes: { signedIn: true },
    resolve: async (user, _args, ctx) => {
      if (ctx.viewer?.id !== user.id) throw new AppError('FORBIDDEN', 'Only your own sessions are visible');
      const rows = await ctx.db.session.findMany({
        where: { userId: user.id, revokedAt: null, expiresAt: { gt: new Date() } },
        orderBy: { createdAt: 'desc' },
        take: 100,
        select: { id: true, createdAt: true, lastUsedAt: true, expiresAt: true, clientAddress: true, userAgent: true },
      });
      return rows.map((row) => ({ ...row, current: row.id === ctx.viewer!.sessionId }));
    },
  }),
);

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
