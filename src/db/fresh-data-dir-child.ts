// Child process of createEmbeddedDatabaseIfMissing: a new, migrated database under argv[2]/pgdata.
import { startEmbeddedPostgres } from './embedded.js';
import { SERVER_SHARED_BUFFERS } from './fresh-data-dir.js';
import { deployMigrations } from './migrations.js';

const db = await startEmbeddedPostgres({ dataDir: process.argv[2]!, sharedBuffers: SERVER_SHARED_BUFFERS });
try {
  const applied = await deployMigrations(db.poolConfig);
  process.stdout.write(JSON.stringify({ applied }));
} finally {
  await db.stop();
}
