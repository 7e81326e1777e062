import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Task } from '@switchyard/contracts';
import pg from 'pg';
import { runningEmbeddedPostgres, socketDirFor } from '../src/embedded-postgres.ts';
import { adminCall as call } from './helpers.ts';
import { runCli, type ServerProcess, startServerProcess } from './process.ts';

interface AuditEntry {
  id: string;
  event_type: string;
}

/**
 * Polls a task's audit history from outside the process until it has `count` entries. The server is
 * another process, so there is no event to await; the deadline is the promise being tested.
 */
async function auditWithin(
  base: string,
  taskId: string,
  count: number,
  deadlineMs: number,
): Promise<AuditEntry[]> {
  const started = Date.now();
  for (;;) {
    const history = await call<AuditEntry[]>(base, 'GET', `/api/tasks/${taskId}/audit`);
    if (history.body.length >= count) return history.body;
    if (Date.now() - started > deadlineMs) {
      throw new Error(
        `audit for ${taskId} had ${history.body.length} of ${count} entries after ${deadlineMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('embedded PostgreSQL (no DATABASE_URL)', () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  const env = () => ({ SWITCHYARD_DATA_DIR: dataDir, DATABASE_URL: '' });

  before(async () => {
    // Under the system temp dir: when the tests run as root, the postgres user must reach it.
    dataDir = await mkdtemp(join(tmpdir(), 'switchyard-embedded-'));
  });
  after(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  let firstTask: Task;

  it('starts from nothing and serves /health within 30 s, with audit history within 1 s of a write', async () => {
    const startedAt = Date.now();
    server = await startServerProcess(env(), 30_000);
    const health = await call<{ status: string }>(server.url, 'GET', '/health');
    assert.equal(health.status, 200);
    assert.ok(Date.now() - startedAt < 30_000);

    const created = await call<Task>(server.url, 'POST', '/api/tasks', {
      json: { title: 'survives restarts' },
    });
    assert.equal(created.status, 201);
    firstTask = created.body;
    const history = await auditWithin(server.url, firstTask.id, 1, 1_000);
    assert.equal(history[0]?.event_type, 'task.created');
  });

  it('connects to its PostgreSQL through the Unix socket in the data dir, and so does the CLI', async () => {
    const url = await runningEmbeddedPostgres(dataDir);
    assert.ok(url, 'the running server is found from its data dir');
    assert.equal(new URL(url).searchParams.get('host'), join(dataDir, 'run'));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // inet_client_addr() and client_addr are null exactly for Unix-socket sessions.
      const mine = await client.query<{ addr: string | null }>('SELECT inet_client_addr()::text AS addr');
      assert.equal(mine.rows[0]?.addr, null);
      const servers = await client.query<{ socket: number; tcp: number }>(
        `SELECT count(*) FILTER (WHERE client_addr IS NULL)::int AS socket,
                count(*) FILTER (WHERE client_addr IS NOT NULL)::int AS tcp
           FROM pg_stat_activity
          WHERE datname = 'switchyard' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      assert.ok((servers.rows[0]?.socket ?? 0) > 0, 'the server holds sessions over the socket');
      assert.equal(servers.rows[0]?.tcp, 0, 'and none over TCP');
    } finally {
      await client.end();
    }
  });

  it('refuses a second process on the same data dir', async () => {
    const second = await runCli(['start'], { ...env(), PORT: '0' });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /another Switchyard process \(pid \d+\) is using/);
  });

  it("lets the dead-letters CLI work next to the running server, on that server's database", async () => {
    const listed = await runCli(['dead-letters', 'list'], env());
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim(), 'no dead letters');
  });

  it('shuts down cleanly on SIGTERM, stopping PostgreSQL, and keeps the data for the next start', async () => {
    assert.ok(server);
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.equal(exit.code, 0);
    assert.equal(
      existsSync(join(dataDir, 'postgres', 'postmaster.pid')),
      false,
      'PostgreSQL stopped with the process',
    );

    server = await startServerProcess(env());
    const task = await call<Task>(server.url, 'GET', `/api/tasks/${firstTask.id}`);
    assert.deepEqual(task.body, firstTask);
    const history = await auditWithin(server.url, firstTask.id, 1, 1_000);
    assert.equal(history.length, 1);
  });

  it('delivers the event of a write once after the process is killed right after it', async () => {
    assert.ok(server);
    const created = await call<Task>(server.url, 'POST', '/api/tasks', {
      json: { title: 'written, then SIGKILL' },
    });
    assert.equal(created.status, 201);
    server.child.kill('SIGKILL');
    await server.exited;

    // The orphaned PostgreSQL still holds the data dir; the next start must take it back.
    server = await startServerProcess(env());
    const task = await call<Task>(server.url, 'GET', `/api/tasks/${created.body.id}`);
    assert.equal(task.status, 200);
    await auditWithin(server.url, created.body.id, 1, 5_000);

    // A later event passing through proves the consumer has moved past the first one for good.
    const later = await call<Task>(server.url, 'POST', '/api/tasks', { json: { title: 'after recovery' } });
    await auditWithin(server.url, later.body.id, 1, 1_000);
    const history = await call<AuditEntry[]>(server.url, 'GET', `/api/tasks/${created.body.id}/audit`);
    assert.deepEqual(
      history.body.map((entry) => entry.event_type),
      ['task.created'],
    );
    const first = await call<AuditEntry[]>(server.url, 'GET', `/api/tasks/${firstTask.id}/audit`);
    assert.equal(first.body.length, 1);
  });
});

describe('socketDirFor', () => {
  it('puts the socket in <dataDir>/run while its path fits every platform, else leaves it to TCP', () => {
    assert.equal(socketDirFor('/home/ada/.switchyard', 54_321, 'linux'), '/home/ada/.switchyard/run');
    // A dir of 80 bytes + '/run' + '/.s.PGSQL.54321' = 99 bytes: fits; one of 85 bytes makes 104: does not.
    const fits = `/${'d'.repeat(79)}`;
    assert.equal(socketDirFor(fits, 54_321, 'darwin'), `${fits}/run`);
    assert.equal(socketDirFor(`/${'d'.repeat(84)}`, 54_321, 'linux'), undefined);
    // Bytes, not characters: '/' and 42 two-byte letters are 85 bytes.
    assert.equal(socketDirFor(`/${'é'.repeat(42)}`, 54_321, 'linux'), undefined);
    assert.equal(socketDirFor('C:\\switchyard', 54_321, 'win32'), undefined);
  });
});

describe('embedded PostgreSQL as an ordinary user', () => {
  // Run as root (as CI does), the suite above covers the root path; this one drops to `nobody`.
  const isRoot = process.getuid?.() === 0;
  const nobody = isRoot
    ? {
        uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })),
        gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })),
      }
    : undefined;
  const reachable = nobody && spawnSync(process.execPath, ['--version'], { ...nobody }).status === 0;

  it('initialises, serves and stops without any root help', {
    skip: !isRoot
      ? 'already covered: the suite above runs as an ordinary user'
      : !reachable && 'nobody cannot run this Node',
  }, async () => {
    assert.ok(nobody);
    const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-user-'));
    await chown(dataDir, nobody.uid, nobody.gid);
    try {
      const server = await startServerProcess(
        { SWITCHYARD_DATA_DIR: dataDir, DATABASE_URL: '' },
        30_000,
        nobody,
      );
      const created = await call<Task>(server.url, 'POST', '/api/tasks', { json: { title: 'no root here' } });
      assert.equal(created.status, 201);
      await auditWithin(server.url, created.body.id, 1, 1_000);
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
