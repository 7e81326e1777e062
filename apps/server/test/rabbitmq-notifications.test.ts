import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DeadLetter } from '@switchyard/bus';
import {
  EMAIL_QUEUE,
  EMAIL_ROUTING_KEY,
  FAILED_QUEUE,
  NOTIFICATIONS_EXCHANGE,
  PUSH_QUEUE,
} from '@switchyard/bus-rabbitmq';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { createTestVhost, type TestVhost } from '@switchyard/testing/rabbitmq';
import { type SmtpSink, startSmtpSink } from '@switchyard/testing/smtp';
import type { Channel, ChannelModel } from 'amqplib';
import amqp from 'amqplib';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { SERVICE_NAMES } from '../src/services.ts';
import { adminCall, testConfig, until } from './helpers.ts';

/**
 * Re-reads `read` until `done` holds. For what only shows from the outside (a queue's depth, the dead
 * letters list): RabbitMQ and the API announce nothing a test could await.
 */

interface Accepted {
  request_id: string;
  status: string;
}

/**
 * Source C's RabbitMQ path: delivery work for email and push waits in `email.queue` / `push.queue` (so a
 * worker may start later, in another process), and what the email worker gives up on ends in
 * `failed.queue` through `notifications.dlx`, while staying replayable from the dead letters API.
 */
describe('notification work on RabbitMQ, source C topology', () => {
  let database: TestDatabase;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  let front: RunningSwitchyard;
  let worker: RunningSwitchyard | undefined;
  let connection: ChannelModel;
  let channel: Channel;

  const env = () => ({ SWITCHYARD_BUS: 'rabbitmq', AMQP_URL: vhost.url, SMTP_URL: smtp.url });
  const depth = async (queue: string) => (await channel.checkQueue(queue)).messageCount;
  const depthIs = (queue: string, count: number) =>
    until(
      () => depth(queue),
      (seen) => seen === count,
      `${count} message(s) in ${queue}`,
    );

  function notify(json: unknown) {
    return adminCall<Accepted>(front.url, 'POST', '/api/v1/notifications', { json });
  }

  before(async () => {
    database = await createTestDatabase('rabbit_notifications');
    vhost = await createTestVhost('rabbit_notifications');
    smtp = await startSmtpSink();
    // Everything but the delivery workers: the work has nowhere to go but source C's queues.
    front = await startSwitchyard(
      testConfig(database.url, {
        ...env(),
        SWITCHYARD_SERVICES: SERVICE_NAMES.filter((name) => name !== 'delivery').join(','),
      }),
      silentLogger(),
    );
    connection = await amqp.connect(vhost.url);
    channel = await connection.createChannel();
  });

  after(async () => {
    await worker?.close();
    await front?.close();
    await connection?.close().catch(() => {});
    await smtp?.close();
    await database?.drop();
    await vhost?.drop();
  });

  it('keeps email and push work in email.queue and push.queue while no delivery worker runs', async () => {
    const email = await notify({
      recipients: [{ email: 'x@example.com' }],
      channels: ['email'],
      content: { subject: 's', text: 't' },
    });
    assert.equal(email.status, 202, JSON.stringify(email.body));
    await depthIs(EMAIL_QUEUE, 1);

    const push = await notify({
      recipients: [{ push_token: 'device-token-1' }],
      channels: ['push'],
      content: { subject: 's', text: 't' },
    });
    assert.equal(push.status, 202, JSON.stringify(push.body));
    await depthIs(PUSH_QUEUE, 1);

    const waiting = await channel.get(EMAIL_QUEUE);
    assert.ok(waiting, 'the email work');
    assert.equal(waiting.properties.headers?.ce_type, 'notification.delivery.requested');
    assert.equal(waiting.properties.deliveryMode, 2, 'persistent');
    assert.equal(waiting.properties.messageId, waiting.properties.headers?.ce_id, 'the event id');
    const data = JSON.parse(waiting.content.toString('utf8')) as Record<string, unknown>;
    assert.equal(data.channel, 'email');
    assert.equal(data.address, 'x@example.com');
    // The same work twice, as after a relay that crashed between publishing and saving its offset: the
    // worker must still send it once.
    channel.publish(NOTIFICATIONS_EXCHANGE, EMAIL_ROUTING_KEY, waiting.content, waiting.properties);
    // Then other work with the same partition key: handled after the repeat (one key, in order), so its
    // mail tells the next test the repeat has been dealt with.
    const marker = { ...data, delivery_id: randomUUID(), address: 'marker@example.com' };
    channel.publish(NOTIFICATIONS_EXCHANGE, EMAIL_ROUTING_KEY, Buffer.from(JSON.stringify(marker)), {
      ...waiting.properties,
      headers: { ...waiting.properties.headers, ce_id: randomUUID() },
    });
    channel.nack(waiting, false, true);
    await depthIs(EMAIL_QUEUE, 3);
    assert.equal(await depth(FAILED_QUEUE), 0);
  });

  it('sends the waiting email once when a delivery worker starts on the same database and vhost', async () => {
    worker = await startSwitchyard(
      testConfig(database.url, { ...env(), SWITCHYARD_SERVICES: 'delivery' }),
      silentLogger(),
    );
    const mail = await smtp.messages.waitFor((message) => message.envelope.to.includes('x@example.com'));
    assert.equal(mail.subject, 's');
    await smtp.messages.waitFor((message) => message.envelope.to.includes('marker@example.com'));
    // Only the email and push work count for the delivery groups: drain does not wait for the rest.
    await worker.drain('delivery-email');
    await worker.drain('delivery-push');
    await depthIs(EMAIL_QUEUE, 0);
    await depthIs(PUSH_QUEUE, 0);
    assert.equal(
      smtp.messages.items.filter((message) => message.envelope.to.includes('x@example.com')).length,
      1,
      'sent once, though the work was in the queue twice',
    );
    assert.equal(
      await depth(FAILED_QUEUE),
      0,
      'push without a provider fails for good, not into failed.queue',
    );
  });

  it('moves email work that failed 1 s, 2 s, 4 s later to failed.queue and to the dead letters', async () => {
    assert.ok(worker, 'the worker of the previous test');
    await smtp.down();
    const accepted = await notify({
      recipients: [{ email: 'down@example.com' }],
      channels: ['email'],
      content: { subject: 'while down', text: 't' },
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));

    const letters = await until(
      async () =>
        (await adminCall<DeadLetter[]>(front.url, 'GET', '/api/v1/dead-letters?group=delivery-email')).body,
      (list) => list.length === 1,
      'the dead letter',
    );
    const letter = letters[0];
    assert.ok(letter);
    assert.equal(letter.topic, 'notifications');
    assert.equal(letter.event_type, 'notification.delivery.requested');
    assert.equal(letter.reason, 'handler_failed');
    assert.equal(letter.attempts, 4);
    const tried = Date.parse(letter.last_failed_at) - Date.parse(letter.first_failed_at);
    assert.ok(tried >= 7_000, `retried after 1 s, 2 s and 4 s (${tried} ms)`);

    await depthIs(FAILED_QUEUE, 1);
    assert.equal(await depth(EMAIL_QUEUE), 0);
    const failed = await channel.get(FAILED_QUEUE, { noAck: true });
    assert.ok(failed);
    assert.equal(failed.properties.headers?.ce_id, letter.event_id);
    assert.equal(failed.properties.headers?.['x-death']?.[0]?.queue, EMAIL_QUEUE);

    // The dead letter stays the way back: replayed, the work goes through email.queue again.
    await smtp.up();
    const replayed = await adminCall(front.url, 'POST', `/api/v1/dead-letters/${letter.id}/replay`);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    const mail = await smtp.messages.waitFor((message) => message.envelope.to.includes('down@example.com'));
    assert.equal(mail.subject, 'while down');
    await worker.drain('delivery-email');
    assert.equal(await depth(FAILED_QUEUE), 0, 'nothing failed again');
  });
});
