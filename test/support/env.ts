/**
 * A PostgreSQL server for the tests that need one beyond the database under test (a second
 * server process, real races). CI always has the machine's server, so nothing is skipped there.
 */
export const postgresServerUrl: string | undefined =
  process.env.TEST_DATABASE_URL || (process.env.CI === 'true' ? 'postgresql://postgres@127.0.0.1:5432/test' : undefined);

/** Redis for the scale-out tests; CI always has the machine's. */
export const redisUrl: string | undefined =
  process.env.TEST_REDIS_URL || (process.env.CI === 'true' ? 'redis://127.0.0.1:6379' : undefined);
