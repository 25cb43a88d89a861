import fs from 'node:fs';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { GraphQLParams } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { ConfigError } from '../config.js';

// Trusted documents (TRUSTED_DOCUMENTS): the server runs only the operations of a manifest, the
// JSON object of hash → document text that GraphQL Code Generator's client preset writes
// (`persistedDocuments`). A client names one by `documentId` or by the `persistedQuery`
// extension (`{ "version": 1, "sha256Hash": … }`), over HTTP and over graphql-ws.

export type TrustedDocuments = ReadonlyMap<string, DocumentNode>;
export type ArbitraryOperations = 'none' | 'admins' | 'all';

/** The manifest, each document parsed and validated against the schema: a bad one stops start-up. */
export function loadTrustedDocuments(file: string, schema: GraphQLSchema): TrustedDocuments {
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  TRUSTED_DOCUMENTS: cannot read ${file}: ${(error as Error).message}`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new ConfigError(`Invalid configuration:\n  TRUSTED_DOCUMENTS: ${file} must hold a JSON object of id → document`);
  }
  const documents = new Map<string, DocumentNode>();
  for (const [id, text] of Object.entries(manifest)) {
    const problem = (why: string) => new ConfigError(`Invalid configuration:\n  TRUSTED_DOCUMENTS: the document ${id} in ${file} ${why}`);
    if (typeof text !== 'string') throw problem('is not a string');
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (error) {
      throw problem(`does not parse: ${(error as Error).message}`);
    }
    const errors = validate(schema, document);
    if (errors.length > 0) throw problem(`is not valid against the schema: ${errors[0]!.message}`);
    documents.set(id, document);
  }
  return documents;
}

/** A document by its id, with or without the manifest's `sha256:` prefix. */
export function trustedDocument(documents: TrustedDocuments, id: string): DocumentNode | null {
  return documents.get(id) ?? documents.get(`sha256:${id}`) ?? null;
}

/** The id a request names: `documentId`, or the persisted-query extension's hash. */
export function trustedDocumentId(params: { documentId?: unknown; extensions?: unknown }): string | null {
  if (typeof params.documentId === 'string' && params.documentId) return params.documentId;
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

const refusal = (code: string, message: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
export const documentRequired = () =>
  refusal('PERSISTED_QUERY_ONLY', 'This server runs only its trusted documents: send documentId (or extensions.persistedQuery.sha256Hash) instead of query');
export const documentNotFound = () => refusal('PERSISTED_QUERY_NOT_FOUND', 'No trusted document has this id');
const idRequired = () => refusal('PERSISTED_QUERY_ID_REQUIRED', 'Send documentId (or extensions.persistedQuery.sha256Hash)');

/**
 * HTTP: yoga's persisted-operations plugin over the manifest. `mayRunArbitrary` says whether a
 * request may send its own document instead (ALLOW_ARBITRARY_OPERATIONS).
 */
export function trustedDocumentsPlugin(documents: TrustedDocuments, mayRunArbitrary: (request: Request) => Promise<boolean>) {
  return usePersistedOperations({
    getPersistedOperation: (id) => trustedDocument(documents, id),
    extractPersistedOperationId: (params: GraphQLParams & { documentId?: unknown }) => trustedDocumentId(params),
    allowArbitraryOperations: mayRunArbitrary,
    // Validated once, when the manifest was loaded.
    skipDocumentValidation: true,
    customErrors: { persistedQueryOnly: () => documentRequired(), notFound: () => documentNotFound(), keyNotFound: () => idRequired() },
  });
}
