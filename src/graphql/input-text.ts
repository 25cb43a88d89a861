import type { Plugin } from 'graphql-yoga';
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';

/**
 * Text no column can hold as given: NUL (PostgreSQL refuses it in text) and lone UTF-16
 * surrogates (they would be stored as U+FFFD, silently changed). Either is refused as
 * BAD_USER_INPUT before anything runs, wherever it is: a variable at any depth or a literal.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Walked without recursion: however deep the variables, no stack overflow. */
function unstorableIn(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (!Array.isArray(v) && UNSTORABLE.test(k)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

function unstorableLiteral(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (UNSTORABLE.test(node.value)) found = true;
    },
  });
  return found;
}

const refusal = () =>
  new GraphQLError('Text may not contain NUL characters or unpaired UTF-16 surrogates', { extensions: { code: 'BAD_USER_INPUT' } });

export function refuseUnstorableText(): Plugin {
  const check = (document: DocumentNode, variables: unknown) => unstorableIn(variables) || unstorableLiteral(document);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (check(args.document, args.variableValues)) setResultAndStopExecution({ errors: [refusal()] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (check(args.document, args.variableValues)) setResultAndStopExecution({ errors: [refusal()] });
    },
  };
}
