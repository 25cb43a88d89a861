import SchemaBuilder, { BasePlugin, type FieldNullability, type InputFieldMap, type PothosOutputFieldConfig, type SchemaTypes, type TypeParam } from '@pothos/core';
import { parsePrismaCursor } from '@pothos/plugin-prisma';
import type { GraphQLFieldResolver } from 'graphql';
import { isUuid } from './ids.js';
import { assertOwnCursor } from './paging.js';

/** Whether the row a cursor names belongs to this parent's list. */
export type CursorOwner<Context> = (parent: never, rowId: string, ctx: Context) => Promise<boolean>;

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      ownCursor: OwnCursorPlugin<Types>;
    }
    export interface FieldOptions<
      Types extends SchemaTypes,
      ParentShape,
      Type extends TypeParam<Types>,
      Nullable extends FieldNullability<Type>,
      Args extends InputFieldMap,
      ResolveShape,
      ResolveReturnShape,
    > {
      /**
       * For a connection loaded with its parent (t.relatedConnection): refuses an `after` or
       * `before` cursor from another parent's list as BAD_USER_INPUT, before the page is read.
       */
      ownCursor?: CursorOwner<Types['Context']>;
    }
  }
}

/**
 * A related connection's page is read inside its parent's query, where a cursor from another
 * list would silently give an empty (or misplaced) page. The field's resolver is wrapped: a
 * cursor is checked against the parent first; a page without one costs nothing more.
 */
export class OwnCursorPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const belongs = (fieldConfig.pothosOptions as { ownCursor?: CursorOwner<Types['Context']> }).ownCursor;
    if (!belongs) return resolver;
    return async (parent, args, ctx, info) => {
      const { after, before } = args as { after?: unknown; before?: unknown };
      const key = before != null ? 'before' : after != null ? 'after' : null;
      if (key) {
        let id: unknown;
        try {
          id = parsePrismaCursor(key === 'before' ? before : after);
        } catch {
          return resolver(parent, args, ctx, info); // malformed: refused there, with its own message
        }
        await assertOwnCursor({ cursor: { id } }, key, async (rowId) => isUuid(rowId) && belongs(parent as never, rowId, ctx));
      }
      return resolver(parent, args, ctx, info);
    };
  }
}

const pluginName = 'ownCursor';
SchemaBuilder.registerPlugin(pluginName, OwnCursorPlugin);
export default pluginName;
