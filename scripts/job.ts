// npm run job -- <name>: runs one job once, now, on DATABASE_URL or the embedded database.
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db.js';
import { JOB_NAMES, type JobName } from '../src/jobs/types.js';
import { startRuntime } from '../src/runtime.js';

const name = process.argv[2] as JobName | undefined;
if (!name || !JOB_NAMES.includes(name)) {
  console.error(`Usage: npm run job -- <${JOB_NAMES.join(' | ')}>`);
  process.exit(2);
}
const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL });
const database = await openDatabase(config, log);
const runtime = await startRuntime(config, database.db, log);
try {
  const outcome = await runtime.deps.scheduler.runNow(name, 'cli');
  console.log(JSON.stringify(outcome, null, 2));
  process.exitCode = 'skipped' in outcome || outcome.status === 'FAILED' ? 1 : 0;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await runtime.close();
  await database.close();
}
