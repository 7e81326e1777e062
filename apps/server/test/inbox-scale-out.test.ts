import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@switchyard/testing/redis';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { adminCall, userWithRole } from './helpers.ts';
import {
  connectSocket,
  type InboxItem,
  type InboxStream,
  nextStreamItem,
  openInboxStream,
} from './inbox-clients.ts';
import { type ServerProcess, startServerProcess } from './process.ts';

async function stop(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

/** Re-asks until `check` holds: what it looks at changes by a message, not by a reply. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The items of the next `count` notification frames of an open stream. */
async function streamItems(stream: InboxStream, count: number): Promise<InboxItem[]> {
  const items: InboxItem[] = [];
  while (items.length < count) items.push(await nextStreamItem(stream));
  return items;
}

function socketItems(socket: Socket, count: number): Promise<InboxItem[]> {
  const items: InboxItem[] = [];
  return new Promise((resolve) => {
    const take = (item: InboxItem) => {
      items.push(item);
      if (items.length < count) return;
      socket.off('notification', take);
      resolve(items);
    };
    socket.on('notification', take);
  });
}

describe('the live inbox across two server processes on one Redis', () => {
  let database: TestDatabase;
  let redisPrefix: TestRedisPrefix;
  let redis: Redis;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    database = await createTestDatabase('inbox_scale_out');
    redisPrefix = await createTestRedisPrefix('inbox-scale-out');
    redis = new Redis(TEST_REDIS_URL);
    const env = {
      DATABASE_URL: database.url,
      SWITCHYARD_SECRET_KEY: 'inbox-scale-out-secret-0123456789abcdef',
      REDIS_URL: TEST_REDIS_URL,
      SWITCHYARD_REDIS_KEY_PREFIX: redisPrefix.prefix,
    };
    // One at a time: the first creates the signing key and the admin, the second finds them.
    a = await startServerProcess(env);
    b = await startServerProcess(env);
  });
  after(async () => {
    await stop(a);
    await stop(b);
    redis?.disconnect();
    await redisPrefix?.cleanup();
    await database?.drop();
  });

  /** How many Redis connections listen on the user's inbox channel: one per process with a connection. */
  async function subscribers(userId: string): Promise<number> {
    const [, count] = (await redis.pubsub('NUMSUB', `${redisPrefix.prefix}inbox:${userId}`)) as [
      string,
      number,
    ];
    return count;
  }

  it("pushes items dispatched on either process to the user's sockets and streams on both", async () => {
    const member = await userWithRole(a.url, 'member');
    const token = member.access_token;
    const onB = await connectSocket(b.url, { auth: { token } });
    const streamOnB = await openInboxStream(b.url, token);
    const secondOnB = await connectSocket(b.url, { auth: { token } });
    const onA = await connectSocket(a.url, { auth: { token } });
    try {
      // Three connections on B, one on A: each process subscribes once, however many connections it has.
      assert.equal(await subscribers(member.user.id), 2);

      // Either process may run a dispatch, so each item reaches a connection on the other process only
      // through Redis: every item arriving on both processes proves the fan-out, whichever ran it.
      const count = 4;
      const received = Promise.all([
        socketItems(onB, count),
        socketItems(secondOnB, count),
        streamItems(streamOnB, count),
        socketItems(onA, count),
      ]);
      const sent: string[] = [];
      for (let n = 1; n <= count; n += 1) {
        const accepted = await adminCall<{ request_id: string }>(a.url, 'POST', '/api/v1/notifications', {
          json: {
            recipients: [{ user_id: member.user.id }],
            channels: ['in_app'],
            content: { subject: `across ${n}`, text: 'from another instance' },
          },
        });
        assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
        sent.push(accepted.body.request_id);
      }
      const [first, second, streamed, elsewhere] = await received;
      for (const items of [first, second, streamed, elsewhere]) {
        assert.deepEqual(items.map((item) => item.request_id).sort(), [...sent].sort());
      }
      assert.deepEqual(streamed, first, 'the stream and the sockets carry the same JSON');
    } finally {
      onB.disconnect();
      secondOnB.disconnect();
      streamOnB.close();
      onA.disconnect();
    }
    await eventually(
      async () => (await subscribers(member.user.id)) === 0,
      'both processes to unsubscribe once the last connection left',
    );
  });
});
