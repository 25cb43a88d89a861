import { exportUserData } from '../../domain/export.js';
import { builder } from '../builder.js';

builder.prismaObjectFields('User', (t) => ({
  export: t.field({
    type: 'JSON',
    // Null (with the refusal's error) on anyone else, as every field that is yours only: a
    // mutation's answer that selects it for another user keeps what the mutation did.
    nullable: true,
    description:
      'Everything Verdict holds about you, as one JSON document (format `verdict-export/1`): profile, sessions, ' +
      'votes, arguments, upvotes, rewards, badges, notifications, e-mails, submissions and ledger receipts. ' +
      'Yours only; a few per hour (RATE_LIMITED beyond).',
    authScopes: (user, _args, ctx) => ctx.viewer?.id === user.id,
    resolve: (user, _args, ctx) => exportUserData(ctx.db, user.id),
  }),
}));
