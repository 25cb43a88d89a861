import type { Context } from '../../context.js';
import { setEmail, verifyEmail } from '../../domain/mail.js';
import { DEFAULT_SETTINGS, markRead, type NotificationSettingsShape as SettingsShape } from '../../domain/notifications.js';
import { NotificationKind, NotifyChannel } from '../../generated/prisma/enums.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { isUuid, rowId } from '../ids.js';
import { allowed, whileAllowed, type Refused } from '../recheck.js';

const Kind = builder.enumType(NotificationKind, {
  name: 'NotificationKind',
  description: 'What a notification is about.',
  values: {
    CASE_CLOSED: { description: 'A case you voted or argued on closed: the ruling, whether you sided with it, your reward.' },
    BADGE_EARNED: { description: 'You earned a badge.' },
    REWARD_CONFIRMED: { description: 'A payout to your wallet was confirmed on chain.' },
    REWARD_FAILED: { description: 'A payout to your wallet failed.' },
  },
});

builder.prismaNode('Notification', {
  id: { field: 'id' },
  description: 'Something that happened to you: a case you took part in closed, a badge, a payout.',
  // Only its owner may load it by id (node): anyone else gets null.
  findUnique: (id, ctx) => ({ id: isUuid(id) ? id : '00000000-0000-0000-0000-000000000000', userId: ctx.viewer?.id ?? '00000000-0000-0000-0000-000000000000' }),
  nullable: true,
  fields: (t) => ({
    kind: t.expose('kind', { type: Kind, description: 'What it is about.' }),
    title: t.exposeString('title', { description: 'One line.' }),
    body: t.exposeString('body', { description: 'The details, as plain text.' }),
    case: t.relation('case', { nullable: true, description: 'The case it is about; null for a badge and its bonus.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
    readAt: t.expose('readAt', { type: 'DateTime', nullable: true, description: 'When you marked it read; null while unread.' }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  notifications: t.relatedConnection('notifications', {
    cursor: 'id',
    nullable: true,
    description: 'Your notifications, newest first (not visible to others); unreadOnly leaves out those read.',
    args: { unreadOnly: t.arg.boolean({ defaultValue: false, description: 'Leave out those read.' }) },
    authScopes: (user, _args, ctx) => ctx.viewer?.id === user.id,
    query: (args) => ({ where: args.unreadOnly ? { readAt: null } : {}, orderBy: { id: 'desc' } }),
    ownCursor: async (user: { id: string }, id, ctx) => (await ctx.db.notification.count({ where: { id, userId: user.id } })) === 1,
  }),
}));

builder.mutationFields((t) => ({
  markNotificationsRead: t.int({
    authScopes: { signedIn: true },
    description: 'Marks your notifications read: those given by id, or all when ids is left out. Answers how many were unread.',
    args: { ids: t.arg.idList({ required: false, description: 'Global ids of your notifications, at most 100; all of them when left out.' }) },
    resolve: (_root, args, ctx) => {
      const ids = args.ids?.map((id) => rowId('Notification', id) ?? '') ?? null;
      if (ids?.some((id) => !isUuid(id))) throw badInput('Not a notification id', 'ids');
      if (ids && ids.length > 100) throw badInput('At most 100 ids at once', 'ids');
      return markRead(ctx.db, ctx.viewer!.id, ids);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  notificationAdded: t.prismaField({
    type: 'Notification',
    authScopes: { signedIn: true },
    description: 'Your notifications as they are made.',
    subscribe: (_root, _args, ctx) => whileAllowed(ctx, 'signedIn', ctx.pubsub.subscribe('notificationAdded', ctx.viewer!.id)),
    resolve: (query, event: { notificationId: string } | Refused, _args, ctx) =>
      ctx.db.notification.findUniqueOrThrow({ ...query, where: { id: allowed(event).notificationId } }),
  }),
}));

const Channel = builder.enumType(NotifyChannel, {
  name: 'NotifyChannel',
  description: 'How you hear of one kind of notification.',
  values: {
    EMAIL: { description: 'In the app, and by e-mail once your address is verified.' },
    IN_APP: { description: 'In the app only.' },
    OFF: { description: 'Not at all: no notification is made.' },
  },
});

const settingsOf = async (ctx: { db: Context['db'] }, userId: string): Promise<SettingsShape> =>
  (await ctx.db.notificationSettings.findUnique({ where: { userId } })) ?? DEFAULT_SETTINGS;

const Settings = builder.objectRef<SettingsShape>('NotificationSettings').implement({
  description: 'How you hear of each kind of notification.',
  fields: (t) => ({
    caseClosed: t.expose('caseClosed', { type: Channel, description: 'For CASE_CLOSED notifications.' }),
    badgeEarned: t.expose('badgeEarned', { type: Channel, description: 'For BADGE_EARNED notifications.' }),
    rewardConfirmed: t.expose('rewardConfirmed', { type: Channel, description: 'For REWARD_CONFIRMED notifications.' }),
    rewardFailed: t.expose('rewardFailed', { type: Channel, description: 'For REWARD_FAILED notifications.' }),
  }),
});

const EmailRef = builder.objectRef<{ address: string; verifiedAt: Date | null }>('EmailAddress').implement({
  description: 'Your e-mail address for notification digests.',
  fields: (t) => ({
    address: t.exposeString('address', { description: 'The address, as set with setEmail.' }),
    verified: t.boolean({ description: 'Confirmed with verifyEmail: only a verified address gets mail.', resolve: (e) => e.verifiedAt !== null }),
  }),
});

const SettingsInput = builder.inputType('NotificationSettingsInput', {
  description: 'Only the kinds given change.',
  fields: (t) => ({
    caseClosed: t.field({ type: Channel, description: 'For CASE_CLOSED notifications.' }),
    badgeEarned: t.field({ type: Channel, description: 'For BADGE_EARNED notifications.' }),
    rewardConfirmed: t.field({ type: Channel, description: 'For REWARD_CONFIRMED notifications.' }),
    rewardFailed: t.field({ type: Channel, description: 'For REWARD_FAILED notifications.' }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  email: t.field({
    type: EmailRef,
    nullable: true,
    description: 'Your e-mail address, and whether it is verified (not visible to others).',
    authScopes: (user, _args, ctx) => ctx.viewer?.id === user.id,
    resolve: (user, _args, ctx) => ctx.db.userEmail.findUnique({ where: { userId: user.id } }),
  }),
  notificationSettings: t.field({
    type: Settings,
    nullable: true,
    description: 'How you hear of each kind of notification (not visible to others).',
    authScopes: (user, _args, ctx) => ctx.viewer?.id === user.id,
    resolve: (user, _args, ctx) => settingsOf(ctx, user.id),
  }),
}));

builder.mutationFields((t) => ({
  setEmail: t.boolean({
    authScopes: { signedIn: true },
    description: 'Sets your e-mail address (unverified) and mails it a one-time code for verifyEmail, valid an hour.',
    args: { email: t.arg.string({ required: true, description: 'The address to mail.' }) },
    resolve: async (_root, args, ctx) => {
      await setEmail(ctx.db, ctx.mailer, ctx.viewer!.id, args.email);
      return true;
    },
  }),
  verifyEmail: t.field({
    type: EmailRef,
    authScopes: { signedIn: true },
    description: 'Confirms your address with the code mailed to it (five tries).',
    args: { code: t.arg.string({ required: true, description: 'The six-digit code from the mail.' }) },
    resolve: (_root, args, ctx) => verifyEmail(ctx.db, ctx.viewer!.id, args.code),
  }),
  updateNotificationSettings: t.field({
    type: Settings,
    authScopes: { signedIn: true },
    description: 'Changes how you hear of each kind of notification; answers with all your settings.',
    args: { input: t.arg({ type: SettingsInput, required: true, description: 'The kinds to change.' }) },
    resolve: async (_root, { input }, ctx) => {
      const userId = ctx.viewer!.id;
      const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v != null)) as Partial<SettingsShape>;
      return ctx.db.notificationSettings.upsert({ where: { userId }, create: { userId, ...DEFAULT_SETTINGS, ...changes }, update: changes });
    },
  }),
}));
