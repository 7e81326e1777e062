import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createMigrationCheck, createPool, MigrationError, migrate, type Pool } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';

async function migrationDir(files: Record<string, string>): Promise<URL> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-migrations-'));
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
  return pathToFileURL(`${dir}/`);
}

describe('migrate', () => {
  let database: TestDatabase;
  let pool: Pool;
  const log = silentLogger();

  before(async () => {
    database = await createTestDatabase('migrate');
    pool = createPool({ connectionString: database.url, maxConnections: 5, applicationName: 'test' });
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  it('applies numbered files in order from an empty database and records each once', async () => {
    const directory = await migrationDir({
      '0002_add_column.sql': 'ALTER TABLE things ADD COLUMN colour text;',
      '0001_init.sql': 'CREATE TABLE things (id int PRIMARY KEY);',
    });
    await migrate(pool, [{ schema: 'ordered', directory }], log);
    await migrate(pool, [{ schema: 'ordered', directory }], log);
    const applied = await pool.query('SELECT version, name FROM ordered.schema_migrations ORDER BY version');
    assert.deepEqual(applied.rows, [
      { version: 1, name: '0001_init.sql' },
      { version: 2, name: '0002_add_column.sql' },
    ]);
    await pool.query("INSERT INTO ordered.things (id, colour) VALUES (1, 'red')");
  });

  it('runs safely when several processes migrate at once', async () => {
    const directory = await migrationDir({ '0001_init.sql': 'CREATE TABLE t (id int);' });
    await Promise.all([1, 2, 3].map(() => migrate(pool, [{ schema: 'racing', directory }], log)));
    const applied = await pool.query('SELECT count(*)::int AS n FROM racing.schema_migrations');
    assert.equal(applied.rows[0].n, 1);
  });

  it('refuses to go on when an applied file was edited', async () => {
    const files = { '0001_init.sql': 'CREATE TABLE t (id int);' };
    const directory = await migrationDir(files);
    await migrate(pool, [{ schema: 'edited', directory }], log);
    await writeFile(new URL('0001_init.sql', directory), 'CREATE TABLE t (id bigint);');
    await assert.rejects(migrate(pool, [{ schema: 'edited', directory }], log), (error: Error) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /0001_init\.sql was edited after it was applied/);
      return true;
    });
    const check = await createMigrationCheck(pool, [{ schema: 'edited', directory }]);
    assert.equal(await check(), false);
  });

  it('rolls back a failing file and records nothing for it', async () => {
    const directory = await migrationDir({
      '0001_ok.sql': 'CREATE TABLE ok (id int);',
      '0002_broken.sql': 'CREATE TABLE half (id int); SELECT * FROM missing_table;',
    });
    await assert.rejects(migrate(pool, [{ schema: 'broken', directory }], log), /0002_broken\.sql failed/);
    const applied = await pool.query('SELECT version FROM broken.schema_migrations');
    assert.deepEqual(applied.rows, [{ version: 1 }]);
    const half = await pool.query("SELECT to_regclass('broken.half') AS t");
    assert.equal(half.rows[0].t, null);
  });

  it('rejects files that do not follow the naming scheme', async () => {
    const directory = await migrationDir({ 'init.sql': 'SELECT 1;' });
    await assert.rejects(
      migrate(pool, [{ schema: 'badname', directory }], log),
      /expected a name like 0001_init\.sql/,
    );
  });

  it('reports pending migrations to the readiness check', async () => {
    const directory = await migrationDir({ '0001_init.sql': 'CREATE TABLE t (id int);' });
    const check = await createMigrationCheck(pool, [{ schema: 'pending', directory }]);
    assert.equal(await check(), false);
    await migrate(pool, [{ schema: 'pending', directory }], log);
    assert.equal(await check(), true);
  });
});
