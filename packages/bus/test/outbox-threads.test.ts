import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createPool, type Pool } from '@switchyard/kernel';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import { linkOutboxCommitsAcrossThreads, onOutboxCommit } from '../src/outbox.ts';

describe('outbox commits across threads', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('outbox_threads');
    pool = createPool({
      connectionString: database.url,
      maxConnections: 2,
      applicationName: 'outbox-threads',
    });
  });
  after(async () => {
    await pool?.end();
    await database?.drop();
  });

  it("a commit announced in a linked worker wakes this thread's readers of that topic", async () => {
    const unlink = linkOutboxCommitsAcrossThreads();
    const woken = new Promise<string>((resolve) => {
      const stopHearing = onOutboxCommit({
        wake: (topic) => {
          stopHearing();
          resolve(topic);
        },
        pool,
      });
    });
    const worker = new Worker(new URL('./fixtures/announce-worker.ts', import.meta.url), {
      workerData: { topic: 'threads-topic' },
    });
    try {
      assert.equal(await woken, 'threads-topic');
    } finally {
      worker.postMessage('stop');
      await once(worker, 'exit');
      unlink();
    }
  });
});
