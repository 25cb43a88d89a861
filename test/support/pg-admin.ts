import pg from 'pg';

/** Same server and credentials as `url`, another database. */
export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** One statement on a connection of its own; its rows. */
export async function queryRows<T extends pg.QueryResultRow>(config: pg.ClientConfig, sql: string): Promise<T[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** CREATE/DROP DATABASE and the like, which cannot run in a transaction. */
export async function adminQuery(url: string, sql: string): Promise<void> {
  await queryRows({ connectionString: url }, sql);
}
