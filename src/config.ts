import path from 'node:path';
import { z } from 'zod';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const postgresUrl = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
);
const cronOrOff = z.preprocess(emptyAsUndefined, z.string().optional());

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: postgresUrl,
  REDIS_URL: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  ),
  /** Namespace of Verdict's keys in Redis (rate limits), so several installations can share one. */
  REDIS_PREFIX: z.string().min(1).default('verdict:'),
  PUBLIC_URL: z.url().default('http://localhost:4000'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` (readable lines) or `json`; unset: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.preprocess(emptyAsUndefined, z.enum(['json', 'pretty']).optional()),
  /** With it, GET /metrics asks for `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, 'must have at least 16 characters').optional()),
  /** With it, /metrics is served on its own port (on METRICS_HOST) and not on PORT. */
  METRICS_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).optional()),
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** A manifest (JSON object of id → document): then only those operations run. */
  TRUSTED_DOCUMENTS: optionalString,
  /** With TRUSTED_DOCUMENTS: who may still send documents of their own (GraphiQL). */
  ALLOW_ARBITRARY_OPERATIONS: z.enum(['none', 'admins', 'all']).default('none'),
  GRAPHQL_PATH: z.string().startsWith('/').default('/graphql'),
  SESSION_SECRET: z.preprocess(emptyAsUndefined, z.string().min(16, 'must have at least 16 characters').optional()),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(100_000),
  RATE_LIMIT_MUTATIONS_PER_MINUTE: z.coerce.number().int().positive().default(60),
  RATE_LIMIT_SIGN_IN_PER_MINUTE: z.coerce.number().int().positive().default(10),
  RATE_LIMIT_EXPORTS_PER_HOUR: z.coerce.number().int().positive().default(5),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().positive().default(100),
  WS_MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().positive().default(1000),
  SESSION_TTL_HOURS: z.coerce.number().positive().default(24 * 7),
  ADMIN_HANDLES: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
  BETA_SIGNUPS_UNTIL: z.preprocess(emptyAsUndefined, z.coerce.date().optional()),
  CASE_REWARD_POOL: z.coerce.number().int().positive().default(1000),
  CASE_DURATION_HOURS: z.coerce.number().positive().default(24),
  CASE_SUBMISSIONS_PER_DAY: z.coerce.number().int().positive().default(1),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  OPENAI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  CHAIN_RPC_URL: z.preprocess(emptyAsUndefined, z.url().optional()),
  CHAIN_PRIVATE_KEY: z.preprocess(
    emptyAsUndefined,
    z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hex key').optional(),
  ),
  CHAIN_REGISTRY_ADDRESS: z.preprocess(emptyAsUndefined, z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address').optional()),
  CHAIN_TOKEN_ADDRESS: z.preprocess(emptyAsUndefined, z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address').optional()),
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(1).default(1),
  /** The longest one JSON-RPC request to the chain may take. */
  CHAIN_RPC_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  JOB_CASE_GENERATION: cronOrOff,
  JOB_CASE_CLOSURE: cronOrOff,
  JOB_TX_MONITOR: cronOrOff,
  JOB_VERDICT_CHECK: cronOrOff,
  JOB_LEADERBOARD: cronOrOff,
  JOB_BADGES: cronOrOff,
  JOB_TOPIC_SCAN: cronOrOff,
  JOB_ANALYTICS: cronOrOff,
  JOB_CLEANUP: cronOrOff,
  JOB_NOTIFICATIONS: cronOrOff,
  /** smtp(s)://user:pass@host:port of the mail server; without it no e-mail is sent. */
  SMTP_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()),
  MAIL_FROM: z.string().min(3).default('Verdict <verdict@localhost>'),
  NOTIFY_DIGEST_HOURS: z.coerce.number().positive().default(24),
  /** Closed cases older than this many days have their votes and upvotes archived by the cleanup job. */
  ARCHIVE_AFTER_DAYS: z.coerce.number().positive().default(90),
  /** Finished job runs older than this many days are deleted by the cleanup job. */
  JOB_RUNS_KEEP_DAYS: z.coerce.number().int().positive().default(30),
  /** Feeds the topic-scan job reads (Reddit listing JSON, RSS 2.0, Atom); nothing else is fetched. */
  TOPIC_FEEDS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be http(s) URLs, comma-separated' }))),
  TOPIC_FEED_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  TOPIC_FEED_MAX_BYTES: z.coerce.number().int().positive().default(2_000_000),
});

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once; a bad value names its variable and stops start-up. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = { ...parsed.data, DATA_DIR: path.resolve(parsed.data.DATA_DIR) };
  if (config.CHAIN_RPC_URL && !config.CHAIN_PRIVATE_KEY) {
    throw new ConfigError('Invalid configuration:\n  CHAIN_PRIVATE_KEY: required with CHAIN_RPC_URL');
  }
  return config;
}
