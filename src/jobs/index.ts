import type { Logger } from 'pino';
import type { Chain } from '../chain/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import type { Mailer } from '../domain/mail.js';
import type { SealingDeps } from '../domain/sealing.js';
import type { SessionKeys } from '../domain/sessions.js';
import type { PubSub } from '../events.js';
import { analyticsJob } from './analytics.js';
import { badgesJob } from './badges.js';
import { caseClosureJob } from './case-closure.js';
import { cleanupJob } from './cleanup.js';
import { caseGenerationJob } from './case-generation.js';
import { leaderboardJob } from './leaderboard.js';
import { notificationsJob } from './notifications.js';
import type { Job } from './types.js';
import { topicScanJob } from './topic-scan.js';
import { txMonitorJob } from './tx-monitor.js';
import { verdictCheckJob } from './verdict-check.js';

/** What jobs may use; each takes the part it needs. */
export interface JobDeps {
  db: Db;
  chain: Chain;
  log: Logger;
  pubsub: PubSub;
  config: Config;
  sealing: SealingDeps;
  mailer: Mailer | null;
  sessions: SessionKeys;
}

export const allJobs: Job<JobDeps>[] = [caseGenerationJob, caseClosureJob, txMonitorJob, verdictCheckJob, leaderboardJob, badgesJob, topicScanJob, analyticsJob, cleanupJob, notificationsJob];
