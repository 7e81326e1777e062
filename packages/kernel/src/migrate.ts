import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Pool } from './db.ts';
import type { Logger } from './logger.ts';

/** One schema and the folder of numbered SQL files that builds it. */
export interface MigrationSet {
  schema: string;
  /** Folder holding `0001_name.sql`, `0002_name.sql`, … */
  directory: URL;
}

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export async function readMigrationFiles(directory: URL): Promise<MigrationFile[]> {
  const path = fileURLToPath(directory);
  const names = (await readdir(path)).filter((name) => name.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (!match) throw new MigrationError(`${path}/${name}: expected a name like 0001_init.sql`);
    const version = Number(match[1]);
    if (files.some((file) => file.version === version)) {
      throw new MigrationError(`${path}: two migrations share version ${match[1]}`);
    }
    const sql = await readFile(`${path}/${name}`, 'utf8');
    files.push({ version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return files;
}

/**
 * Applies every pending migration of each set, in order, each in its own transaction. A per-schema advisory
 * lock lets several processes start at once without racing. An applied file whose checksum changed stops
 * everything: the database no longer matches the code that claims to describe it.
 */
export async function migrate(pool: Pool, sets: MigrationSet[], log: Logger): Promise<void> {
  for (const set of sets) {
    if (!SCHEMA_PATTERN.test(set.schema)) throw new MigrationError(`invalid schema name ${set.schema}`);
    const files = await readMigrationFiles(set.directory);
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`switchyard:migrate:${set.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${set.schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${set.schema}.schema_migrations (
           version integer PRIMARY KEY,
           name text NOT NULL,
           checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const applied = await client.query<{ version: number; name: string; checksum: string }>(
        `SELECT version, name, checksum FROM ${set.schema}.schema_migrations ORDER BY version`,
      );
      const appliedByVersion = new Map(applied.rows.map((row) => [row.version, row]));
      for (const row of applied.rows) {
        if (!files.some((file) => file.version === row.version)) {
          throw new MigrationError(
            `${set.schema}: applied migration ${row.name} is missing from ${set.directory.pathname}`,
          );
        }
      }
      for (const file of files) {
        const done = appliedByVersion.get(file.version);
        if (done) {
          if (done.checksum !== file.checksum) {
            throw new MigrationError(
              `${set.schema}: migration ${file.name} was edited after it was applied (checksum ${done.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk); add a new migration instead`,
            );
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL search_path TO ${set.schema}`);
          await client.query(file.sql);
          await client.query(
            `INSERT INTO ${set.schema}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
            [file.version, file.name, file.checksum],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new MigrationError(`${set.schema}: ${file.name} failed: ${(error as Error).message}`);
        }
        log.info({ schema: set.schema, migration: file.name }, 'migration applied');
      }
    } finally {
      await client
        .query('SELECT pg_advisory_unlock(hashtext($1))', [`switchyard:migrate:${set.schema}`])
        .catch(() => {});
      client.release();
    }
  }
}

/**
 * Returns a check for /ready: true when every file of every set is applied with a matching checksum. The
 * files are read once, here, so a readiness probe costs one query per schema and no disk reads.
 */
export async function createMigrationCheck(
  pool: Pool,
  sets: MigrationSet[],
): Promise<() => Promise<boolean>> {
  const expected = await Promise.all(
    sets.map(async (set) => ({ schema: set.schema, files: await readMigrationFiles(set.directory) })),
  );
  return async () => {
    for (const { schema, files } of expected) {
      const applied = await pool
        .query<{ version: number; checksum: string }>(
          `SELECT version, checksum FROM ${schema}.schema_migrations`,
        )
        .catch(() => ({ rows: [] as { version: number; checksum: string }[] }));
      const checksums = new Map(applied.rows.map((row) => [row.version, row.checksum]));
      if (files.some((file) => checksums.get(file.version) !== file.checksum)) return false;
    }
    return true;
  };
}
