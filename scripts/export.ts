// npm run export -- <handle>: prints everything Verdict holds about a user as one JSON document
// (the same as `me { export }`), on DATABASE_URL or the embedded database (refused while a server
// holds DATA_DIR: PGlite serves one process).
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db.js';
import { exportUserData } from '../src/domain/export.js';

const handle = process.argv[2];
if (!handle) {
  console.error('Usage: npm run export -- <handle>');
  process.exit(2);
}
const config = loadConfig();
let database: Database | undefined;
try {
  // Log lines go to stderr: stdout carries the document only.
  database = await openDatabase(config, pino({ level: 'warn' }, pino.destination(2)));
  const user = await database.db.user.findUnique({ where: { handle: handle.trim().toLowerCase() }, select: { id: true } });
  if (user) {
    process.stdout.write(`${JSON.stringify(await exportUserData(database.db, user.id), null, 2)}\n`);
  } else {
    console.error(`No user with the handle ${handle}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await database?.close();
}
