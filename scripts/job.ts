// npm run job -- <name>: runs one job once, now. When a server runs on the same DATA_DIR, it
// asks that server (its subscribers hear the events); otherwise it runs the job itself on
// DATABASE_URL or the embedded database.
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { runJobOnServer } from '../src/control.js';
import { openDatabase } from '../src/db.js';
import type { RunOutcome } from '../src/jobs/scheduler.js';
import { JOB_NAMES, type JobName } from '../src/jobs/types.js';
import { startRuntime } from '../src/runtime.js';

const name = process.argv[2] as JobName | undefined;
if (!name || !JOB_NAMES.includes(name)) {
  console.error(`Usage: npm run job -- <${JOB_NAMES.join(' | ')}>`);
  process.exit(2);
}
const config = loadConfig();

async function runHere(job: JobName): Promise<RunOutcome> {
  const log = pino({ level: config.LOG_LEVEL });
  const database = await openDatabase(config, log);
  const runtime = await startRuntime(config, database.db, log);
  try {
    return await runtime.deps.scheduler.runNow(job, 'cli');
  } finally {
    await runtime.close();
    await database.close();
  }
}

try {
  const outcome = (await runJobOnServer(config.DATA_DIR, name)) ?? (await runHere(name));
  console.log(JSON.stringify(outcome, null, 2));
  process.exitCode = 'skipped' in outcome || outcome.status === 'FAILED' ? 1 : 0;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
