import { signIn, signUp } from '../../domain/accounts.js';
import { issueSessionToken } from '../../domain/sessions.js';
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
