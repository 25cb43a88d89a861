import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'prisma/config';

// Offline machines cannot download Prisma's native schema engine. `prisma generate` does not need
// it, so point the CLI at a dummy when none is installed; migrations go through
// scripts/migrate.ts and the WASM schema engine instead.
const enginesDir = path.join(import.meta.dirname, 'node_modules', '@prisma', 'engines');
const hasNativeEngine =
  fs.existsSync(enginesDir) && fs.readdirSync(enginesDir).some((f) => f.startsWith('schema-engine-'));
if (!hasNativeEngine && !process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = '/bin/false';
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/verdict' },
});
