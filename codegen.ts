import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the tests, from the committed schema.graphql (which `npm run schema:check`
// keeps in step with the Pothos schema), and their trusted-documents manifest
// (test/generated/persisted-documents.json: sha256 → document, what TRUSTED_DOCUMENTS reads).
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
  silent: true,
};

export default config;
