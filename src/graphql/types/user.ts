import { Role } from '../../generated/prisma/enums.js';
import { builder } from '../builder.js';
import { uuidOrNoRow } from '../ids.js';

builder.enumType(Role, {
  name: 'Role',
  description: 'What a user may do.',
  values: {
    USER: { description: 'Votes, argues, submits cases.' },
    ADMIN: { description: 'Also sees and runs jobs, retries failed payouts and reads daily reports.' },
  },
});

export const UserNode = builder.prismaNode('User', {
  id: { field: 'id' },
  findUnique: (id) => ({ id: uuidOrNoRow(id) }),
  nullable: true,
  description: 'Someone who votes and argues. Fields about one’s own account (rewards, notifications, e-mail) are for that user only.',
  fields: (t) => ({
    handle: t.exposeString('handle', { description: 'Unique name: 3–32 characters of a–z, 0–9 and _, lower case.' }),
    walletAddress: t.exposeString('walletAddress', {
      nullable: true,
      description: 'The connected Ethereum wallet (EIP-55 checksummed), paid on chain; null without one.',
    }),
    role: t.expose('role', { type: Role, description: 'USER, or ADMIN.' }),
    isBetaUser: t.exposeBoolean('isBetaUser', { description: 'Signed up while beta sign-ups were open (`BETA_SIGNUPS_UNTIL`); earns the Early Adopter badge.' }),
    totalPoints: t.exposeInt('totalPoints', { description: 'Points of completed rewards.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the user signed up.' }),
  }),
});

builder.queryFields((t) => ({
  user: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'A user by handle; null when there is none.',
    args: { handle: t.arg.string({ required: true, description: 'Case-insensitive.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.user.findUnique({ ...query, where: { handle: args.handle.trim().toLowerCase() } }),
  }),
}));
