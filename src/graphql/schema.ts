import { builder } from './builder.js';
import './types/account.js';
import './types/analytics.js';
import './types/badge.js';
import './types/case.js';
import './types/export.js';
import './types/jobs.js';
import './types/leaderboard.js';
import './types/notification.js';
import './types/ledger.js';
import './types/participation.js';
import './types/rewards.js';
import './types/topic.js';
import './types/user.js';
import './types/verdict.js';
import './types/wallet.js';

export const schema = builder.toSchema({ sortSchema: true });
