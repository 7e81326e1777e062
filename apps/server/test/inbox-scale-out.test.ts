import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@switchyard/testing/redis';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { adminCall, bearer, userWithRole } from './helpers.ts';
import { type ServerProcess, startServerProcess } from './process.ts';

interface InboxItem {
  id: string;
  request_id: string | null;
  title: string | null;
}

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

async function connectSocket(base: string, token: string): Promise<Socket> {
  const socket = io(base, { path: '/socket.io', auth: { token }, forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** The items of `count` `event: notification` frames, read after `: connected` (sent once subscribed). */
async function openStream(base: string, token: string) {
  const controller = new AbortController();
  const response = await fetch(`${base}/api/v1/inbox/stream`, {
    headers: bearer(token),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  assert.ok(response.body);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  async function frame(): Promise<string> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return text;
      }
      const chunk = await reader.read();
      if (chunk.done) assert.fail('the stream ended');
      buffer += chunk.value;
    }
  }
  assert.equal(await frame(), ': connected');
  return {
    async items(count: number): Promise<InboxItem[]> {
      const items: InboxItem[] = [];
      while (items.length < count) {
        const text = await frame();
        const data = text.split('\n').find((line) => line.startsWith('data: '));
        if (text.startsWith('event: notification\n') && data) {
          items.push(JSON.parse(data.slice('data: '.length)) as InboxItem);
        }
      }
      return items;
    },
    close: () => controller.abort(),
  };
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
    const onB = await connectSocket(b.url, token);
    const streamOnB = await openStream(b.url, token);
    const secondOnB = await connectSocket(b.url, token);
    const onA = await connectSocket(a.url, token);
    try {
      // Three connections on B, one on A: each process subscribes once, however many connections it has.
      assert.equal(await subscribers(member.user.id), 2);

      // Either process may run a dispatch, so each item reaches a connection on the other process only
      // through Redis: every item arriving on both processes proves the fan-out, whichever ran it.
      const count = 4;
      const received = Promise.all([
        socketItems(onB, count),
        socketItems(secondOnB, count),
        streamOnB.items(count),
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
