import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: a pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: NamedStatement,
  ): Promise<pg.QueryResult<R>>;
}

/**
 * A statement PostgreSQL parses and plans once per connection and then only binds: worth it for a large
 * statement run many times a second. One name, one text.
 */
export interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
}

export interface PoolOptions {
  connectionString: string;
  maxConnections: number;
  applicationName: string;
}

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  return pool;
}

const commitHooks = new WeakMap<object, (() => void)[]>();

/**
 * Runs `hook` right after the transaction `tx` commits, and never if it rolls back. Returns false when
 * `tx` is not a transaction `withTransaction` runs, so the caller can fall back to doing the work inside.
 */
export function afterCommit(tx: Queryable, hook: () => void): boolean {
  const hooks = commitHooks.get(tx);
  if (!hooks) return false;
  hooks.push(hook);
  return true;
}

/**
 * Makes `afterCommit` work in a transaction its caller runs itself (a bus's batch): hooks registered on
 * `tx` from now on wait for `run`, called right after COMMIT, or are dropped by `discard` (a rollback, or
 * `tx` going back to the pool). One of the two must be called.
 */
export function collectCommitHooks(tx: Queryable): { run(): void; discard(): void } {
  const hooks: (() => void)[] = [];
  commitHooks.set(tx, hooks);
  return {
    run() {
      commitHooks.delete(tx);
      for (const hook of hooks.splice(0)) hook();
    },
    discard() {
      if (commitHooks.get(tx) === hooks) commitHooks.delete(tx);
      hooks.length = 0;
    },
  };
}

/** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
export async function withTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const hooks: (() => void)[] = [];
  commitHooks.set(client, hooks);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    commitHooks.delete(client);
    for (const hook of hooks) hook();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    commitHooks.delete(client);
    client.release();
  }
}
