import { GraphQLError, Kind, TypeInfo, getOperationAST, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import type { HitCounter } from '../rate-limit.js';

const counted = new WeakMap<OperationDefinitionNode, number>();

/** How often the operation selects `User.export`, through its fragments too (remembered per parsed operation). */
function exportSelections(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): number {
  const known = counted.get(operation);
  if (known !== undefined) return known;
  const typeInfo = new TypeInfo(schema);
  let count = 0;
  const spread = new Set<string>();
  const visitor = visitWithTypeInfo(typeInfo, {
    Field: (node) => {
      if (node.name.value === 'export' && typeInfo.getParentType()?.name === 'User') count += 1;
    },
    FragmentSpread: (node) => {
      spread.add(node.name.value);
    },
  });
  visit(operation, visitor);
  const seen = new Set<string>();
  for (const name of spread) {
    if (seen.has(name)) continue;
    seen.add(name);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);
    if (fragment) visit(fragment, visitor);
  }
  counted.set(operation, count);
  return count;
}

/**
 * Exports are expensive: each `User.export` in a signed-in viewer's operation is one hit on the
 * limiter before anything runs; over the limit the operation is refused with RATE_LIMITED and
 * `retryAfterSeconds`. A subscription may not select it: it would export again at every event.
 */
export function exportRateLimit(limiter: HitCounter): Plugin<Context> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      const viewer = args.contextValue.viewer;
      if (!operation || !viewer) return;
      let wait = 0;
      for (let n = exportSelections(args.schema, args.document, operation); n > 0; n--) wait = Math.max(wait, await limiter.hit(viewer.id));
      if (wait > 0) {
        setResultAndStopExecution({
          errors: [new AppError('RATE_LIMITED', `Too many exports; try again in ${wait} s`, { retryAfterSeconds: wait })],
        });
      }
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation && exportSelections(args.schema, args.document, operation) > 0) {
        setResultAndStopExecution({
          errors: [new GraphQLError('User.export cannot be subscribed to: query it', { extensions: { code: 'BAD_USER_INPUT' } })],
        });
      }
    },
  };
}
