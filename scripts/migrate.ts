// Migrations without Prisma's native engine (see src/db/schema-engine.ts).
//   npm run db:migrate                   apply pending migrations
//   npm run db:migrate:status            list applied and pending migrations
//   npm run db:migrate:create -- --name x   write a migration for schema.prisma changes
// Target: DATABASE_URL when set, else the embedded database under DATA_DIR (refused while a
// server holds it).
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createMigration, deployMigrations, migrationStatus } from '../src/db/migrations.js';

async function withTarget<T>(fn: (poolConfig: pg.PoolConfig) => Promise<T>): Promise<T> {
  const config = loadConfig();
  if (config.DATABASE_URL) return fn({ connectionString: config.DATABASE_URL });
  const db = await startEmbeddedPostgres({ dataDir: config.DATA_DIR });
  try {
    return await fn(db.poolConfig);
  } finally {
    await db.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' } },
  });
  switch (positionals[0]) {
    case 'deploy': {
      const applied = await withTarget((poolConfig) => deployMigrations(poolConfig));
      console.log(applied.length ? `Applied:\n  ${applied.join('\n  ')}` : 'No pending migrations.');
      return;
    }
    case 'status': {
      const { applied, pending } = await withTarget((poolConfig) => migrationStatus(poolConfig));
      console.log(`Applied (${applied.length}):${applied.map((n) => `\n  ${n}`).join('')}`);
      console.log(`Pending (${pending.length}):${pending.map((n) => `\n  ${n}`).join('')}`);
      return;
    }
    case 'create': {
      if (!values.name) throw new Error('Usage: npm run db:migrate:create -- --name <name>');
      const dir = await createMigration(values.name);
      console.log(dir ? `Created ${dir}` : 'The migrations already match prisma/schema.prisma: nothing to create.');
      return;
    }
    default:
      throw new Error('Usage: scripts/migrate.ts deploy | status | create --name <name>');
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exitCode = 1;
});
