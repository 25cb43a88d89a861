// npm run admin -- <handle>: makes a user an admin, on DATABASE_URL or the embedded database.
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { promoteToAdmin } from '../src/domain/accounts.js';

const handle = process.argv[2];
if (!handle) {
  console.error('Usage: npm run admin -- <handle>');
  process.exit(2);
}
const config = loadConfig();
const database = await openDatabase(config, pino({ level: 'warn' }));
try {
  await promoteToAdmin(database.db, handle);
  console.log(`${handle.toLowerCase()} is now an admin.`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await database.close();
}
