import { markRead } from '../../domain/notifications.js';
import { NotificationKind } from '../../generated/prisma/enums.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { isUuid, rowId } from '../ids.js';
import { allowed, whileAllowed, type Refused } from '../recheck.js';

const Kind = builder.enumType(NotificationKind, { name: 'NotificationKind' });

builder.prismaNode('Notification', {
  id: { field: 'id' },
  description: 'Something that happened to you: a case you took part in closed, a badge, a payout.',
  // Only its owner may load it by id (node): anyone else gets null.
  findUnique: (id, ctx) => ({ id: isUuid(id) ? id : '00000000-0000-0000-0000-000000000000', userId: ctx.viewer?.id ?? '00000000-0000-0000-0000-000000000000' }),
  nullable: true,
  fields: (t) => ({
    kind: t.expose('kind', { type: Kind }),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
    case: t.relation('case', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    readAt: t.expose('readAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.prismaObjectFields('User', (t) => ({
  notifications: t.relatedConnection('notifications', {
    cursor: 'id',
    nullable: true,
    description: 'Your notifications, newest first (not visible to others); unreadOnly leaves out those read.',
    args: { unreadOnly: t.arg.boolean({ defaultValue: false }) },
    authScopes: (user, _args, ctx) => ctx.viewer?.id === user.id,
    query: (args) => ({ where: args.unreadOnly ? { readAt: null } : {}, orderBy: { id: 'desc' } }),
    ownCursor: async (user: { id: string }, id, ctx) => (await ctx.db.notification.count({ where: { id, userId: user.id } })) === 1,
  }),
}));

builder.mutationFields((t) => ({
  markNotificationsRead: t.int({
    authScopes: { signedIn: true },
    description: 'Marks your notifications read: those given by id, or all when ids is left out. Answers how many were unread.',
    args: { ids: t.arg.idList({ required: false }) },
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
