import { Role } from '../../generated/prisma/enums.js';
import { builder } from '../builder.js';
import { uuidOrNoRow } from '../ids.js';

builder.enumType(Role, { name: 'Role' });

export const UserNode = builder.prismaNode('User', {
  id: { field: 'id' },
  findUnique: (id) => ({ id: uuidOrNoRow(id) }),
  nullable: true,
  fields: (t) => ({
    handle: t.exposeString('handle'),
    walletAddress: t.exposeString('walletAddress', { nullable: true }),
    role: t.expose('role', { type: Role }),
    isBetaUser: t.exposeBoolean('isBetaUser'),
    totalPoints: t.exposeInt('totalPoints', { description: 'Points of completed rewards.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  user: t.prismaField({
    type: 'User',
    nullable: true,
    args: { handle: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.user.findUnique({ ...query, where: { handle: args.handle.trim().toLowerCase() } }),
  }),
}));
