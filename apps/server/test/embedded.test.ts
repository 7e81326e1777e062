import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Task } from '@switchyard/contracts';
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
