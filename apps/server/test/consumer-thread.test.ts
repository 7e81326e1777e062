import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { consumerThread } from '../src/config.ts';
import type { Overview } from '../src/overview.ts';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall, testClock, testConfig, until, userWithRole } from './helpers.ts';
import {
  connectSocket,
  nextSocketItem,
  nextStreamItem,
  openInboxStream,
  sendInApp,
} from './inbox-clients.ts';

interface CapturedMail {
  subject: string;
  text: string;
}

/** Sends one email to the built-in capture and returns the mail as the dev inbox shows it. */
async function sendAndCapture(base: string, to: string, subject: string): Promise<CapturedMail> {
  const accepted = await adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
    json: {
      recipients: [{ email: to }],
      channels: ['email'],
      content: { subject, text: `body of ${subject}` },
    },
  });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  const mail = await until(
    async () => (await adminCall<CapturedMail[]>(base, 'GET', `/api/v1/dev/mail?to=${to}`)).body,
    (list) => list.length === 1,
    `the mail to ${to} in the dev inbox`,
  );
  return mail[0] as CapturedMail;
}

/** The nice value in a /proc/<pid>/task/<tid>/stat line: field 19, counting the name in parentheses as 2. */
function niceOf(stat: string): number {
  const fieldsAfterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fieldsAfterName[16]);
}

async function metricsText(base: string): Promise<string> {
  const response = await adminCall<string>(base, 'GET', '/metrics');
  assert.equal(response.status, 200);
  return String(response.body);
}

describe('SWITCHYARD_CONSUMER_THREAD=on: consumer groups run beside the request thread', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;

  before(async () => {
    database = await createTestDatabase('consumer_thread');
    server = await startSwitchyard(
      testConfig(database.url, { SWITCHYARD_CONSUMER_THREAD: 'on' }),
      silentLogger(),
    );
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  it('runs the consumer thread at a lower priority than the request thread (Linux nice + 10)', (context) => {
    if (process.platform !== 'linux')
      return context.skip('threads have priorities of their own on Linux only');
    const threads = readdirSync('/proc/self/task').map((threadId) => ({
      name: readFileSync(`/proc/self/task/${threadId}/comm`, 'utf8').trim(),
      nice: niceOf(readFileSync(`/proc/self/task/${threadId}/stat`, 'utf8')),
    }));
    const consumers = threads.filter((thread) => thread.name.startsWith('switchyard-cons'));
    assert.equal(consumers.length, 1, JSON.stringify(threads));
    assert.equal(consumers[0]?.nice, Math.min(19, getPriority() + 10));
  });

  it('delivers what the request thread accepted, to the capture the request thread shows', async () => {
    assert.equal(server.consumerThread, true);
    const mail = await sendAndCapture(server.url, 'thread@example.com', 'From the consumer thread');
    assert.equal(mail.subject, 'From the consumer thread');
    assert.match(mail.text, /body of From the consumer thread/);
  });

  it("merges the thread's metrics into one /metrics, each family once", async () => {
    const text = await until(
      () => metricsText(server.url),
      (body) => /notifications_sent_total\{[^}]*channel="email"[^}]*\} [1-9]/.test(body),
      'the email counted by the consumer thread',
    );
    for (const family of [
      'notifications_sent_total',
      'http_requests_total',
      'process_cpu_user_seconds_total',
    ]) {
      const declared = text.split('\n').filter((line) => line.startsWith(`# TYPE ${family} `));
      assert.equal(declared.length, 1, `${family} is declared once`);
    }
  });

  it('lists the groups the thread runs, counts what they handled, and drains through it', async () => {
    const body = (await adminCall<Overview>(server.url, 'GET', '/api/v1/system/overview')).body;
    const delivery = body.services.find((service) => service.name === 'delivery');
    assert.ok(delivery?.groups.includes('delivery-email'), JSON.stringify(body.services));
    assert.ok(body.consumer_groups.some((group) => group.group === 'delivery-email'));
    await server.drain('delivery-email');
    await until(
      async () => (await adminCall<Overview>(server.url, 'GET', '/api/v1/system/overview')).body,
      (overview) => overview.throughput.handled_last_hour > 0,
      'handled events counted from the thread',
    );
  });

  it("pushes the worker's inbox items live to the request thread's SSE and Socket.IO clients", async () => {
    const member = await userWithRole(server.url, 'member');
    const stream = await openInboxStream(server.url, member.access_token);
    const socket = await connectSocket(server.url, { auth: { token: member.access_token } });
    try {
      const fromStream = nextStreamItem(stream);
      const fromSocket = nextSocketItem(socket);
      const requestId = await sendInApp(server.url, member.user.id, 'Across threads');
      for (const item of await Promise.all([fromStream, fromSocket])) {
        assert.equal(item.request_id, requestId);
        assert.equal(item.title, 'Across threads');
      }
    } finally {
      stream.close();
      socket.disconnect();
    }
  });

  it('renders a template created through the API: both threads read one store', async () => {
    const created = await adminCall(server.url, 'POST', '/api/v1/templates', {
      json: {
        code: 'thread-welcome',
        name: 'Welcome',
        type: 'email',
        subject: 'Hi {{ name }}',
        content: 'Hello {{ name }}',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const mail = await (async () => {
      const accepted = await adminCall(server.url, 'POST', '/api/v1/notifications', {
        json: {
          recipients: [{ email: 'template@example.com' }],
          channels: ['email'],
          template_code: 'thread-welcome',
          variables: { name: 'Ada' },
        },
      });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      return until(
        async () =>
          (await adminCall<CapturedMail[]>(server.url, 'GET', '/api/v1/dev/mail?to=template@example.com'))
            .body,
        (list) => list.length === 1,
        'the templated mail',
      );
    })();
    assert.equal(mail[0]?.subject, 'Hi Ada');
  });
});

describe('SWITCHYARD_CONSUMER_THREAD=auto, the default: on where the process may use two cores', () => {
  it('decides by the setting, and for auto by the cores', () => {
    assert.equal(consumerThread({}, 1), false);
    assert.equal(consumerThread({}, 2), true);
    assert.equal(consumerThread({ SWITCHYARD_CONSUMER_THREAD: '' }, 2), true);
    assert.equal(consumerThread({ SWITCHYARD_CONSUMER_THREAD: 'auto' }, 1), false);
    assert.equal(consumerThread({ SWITCHYARD_CONSUMER_THREAD: 'auto' }, 16), true);
    assert.equal(consumerThread({ SWITCHYARD_CONSUMER_THREAD: 'on' }, 1), true);
    assert.equal(consumerThread({ SWITCHYARD_CONSUMER_THREAD: 'off' }, 16), false);
  });

  it('reads the cores of this machine when the configuration is read', () => {
    assert.equal(testConfig('postgres://127.0.0.1/unused').consumerThread, availableParallelism() >= 2);
  });
});

describe('off, and with a test clock: consumers run on the request thread', () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('consumer_thread_off');
  });
  after(async () => {
    await database?.drop();
  });

  for (const [why, env, options] of [
    ['off', { SWITCHYARD_CONSUMER_THREAD: 'off' }, {}],
    [
      'on and a clock, which cannot cross threads',
      { SWITCHYARD_CONSUMER_THREAD: 'on' },
      { clock: testClock().clock },
    ],
  ] as const) {
    it(`with ${why}, delivers all the same`, async () => {
      const server = await startSwitchyard(testConfig(database.url, env), silentLogger(), options);
      try {
        assert.equal(server.consumerThread, false);
        const to = `${why.replace(/\W+/g, '-')}@example.com`;
        const mail = await sendAndCapture(server.url, to, `On the request thread (${why})`);
        assert.equal(mail.subject, `On the request thread (${why})`);
      } finally {
        await server.close();
      }
    });
  }
});
