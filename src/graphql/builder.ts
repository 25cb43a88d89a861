import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
import type { Context } from '../context.js';
import OwnCursorPlugin from './own-cursor-plugin.js';
import { AppError, badInput } from '../errors.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  AuthScopes: { signedIn: boolean; admin: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, ZodPlugin, OwnCursorPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      signedIn: ctx.viewer !== null,
      admin: ctx.viewer?.role === 'ADMIN',
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer
        ? new AppError('FORBIDDEN', 'Not allowed')
        : new AppError('UNAUTHENTICATED', 'Sign in first'),
  },
  errors: { defaultTypes: [] },
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    nodeTypeOptions: { description: 'An object with a global id, which `node(id)` fetches again.' },
    idFieldOptions: { description: 'Global id: for `node(id)` and for the arguments that take this type’s id.' },
    nodeQueryOptions: {
      description: 'A case, argument, user or notification (your own) by its global id; null when there is none.',
      args: { id: { description: 'A global id, as an `id` field gives it.' } },
    },
    pageInfoTypeOptions: { description: 'Where a page stands in its list, and the cursors to page on from it.' },
    hasNextPageFieldOptions: { description: 'Items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Items come before this page.' },
    startCursorFieldOptions: { description: 'The cursor of the page’s first item; null on an empty page.' },
    endCursorFieldOptions: { description: 'The cursor of the page’s last item (`after` for the next page); null on an empty page.' },
    defaultConnectionTypeOptions: { description: 'One page of a list.' },
    defaultEdgeTypeOptions: { description: 'One item of a page, with its cursor.' },
    edgesFieldOptions: { description: 'The page’s items, in the list’s order.' },
    pageInfoFieldOptions: { description: 'Whether items come before or after this page, and its cursors.' },
    cursorFieldOptions: { description: 'Pass it as `after` or `before` to page on from this item.' },
    nodeFieldOptions: { description: 'The item.' },
    firstArgOptions: { description: 'The first items (after `after`): 0–100; 20 when neither `first` nor `last` is given.' },
    lastArgOptions: { description: 'The last items (before `before`): 0–100.' },
    afterArgOptions: { description: 'Items after this cursor, one of this same list.' },
    beforeArgOptions: { description: 'Items before this cursor, one of this same list.' },
  },
  zod: {
    validationError: (error) => {
      const issue = error.issues[0];
      return badInput(issue?.message ?? 'Invalid input', issue?.path.join('.'));
    },
  },
});

builder.queryType({
  description: 'Reads. Most are public; those about you need a signed-in user (`Authorization: Bearer <token>`), a few an admin.',
});
builder.mutationType({
  description: 'Changes, one root field per request. All but `signUp` and `signIn` need a signed-in user (`Authorization: Bearer <token>`).',
});
builder.subscriptionType({
  description: 'Live events over WebSocket (graphql-ws; the token goes in the connection params) or Server-Sent Events, each sent once its change is committed.',
});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp in UTC.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw badInput('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value (object, array, string, number, boolean or null), passed as it is.',
  serialize: (value) => value,
  parseValue: (value) => value,
});
