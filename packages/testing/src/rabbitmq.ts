import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';

/**
 * The RabbitMQ server tests create their virtual hosts on: SWITCHYARD_TEST_AMQP_URL, or the machine's
 * server on 127.0.0.1:5672 as guest. Vhosts are managed with `rabbitmqctl` (the management HTTP API is not
 * assumed), so tests run on the broker's own machine with the rights to call it (root). A test that cannot
 * reach RabbitMQ fails; it is never skipped.
 */
export const TEST_AMQP_URL = process.env.SWITCHYARD_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface TestVhost {
  /** `TEST_AMQP_URL` with the vhost as its path. */
  url: string;
  name: string;
  /** Deletes the vhost with everything in it (exchanges, queues, messages) and cuts its connections. */
  drop(): Promise<void>;
}

function rabbitmqctl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error) {
        resolve(stdout);
        return;
      }
      const detail = (stderr || stdout || error.message).trim();
      const hint =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'rabbitmqctl is not on PATH; tests need a local RabbitMQ and its rabbitmqctl'
          : 'tests need a local RabbitMQ and the rights to run rabbitmqctl (root)';
      reject(new Error(`rabbitmqctl ${args.join(' ')} failed (${hint}): ${detail}`));
    });
  });
}

/** Fails with a clear message unless something accepts TCP connections at TEST_AMQP_URL's host and port. */
async function assertReachable(): Promise<void> {
  const url = new URL(TEST_AMQP_URL);
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 5672);
  await new Promise<void>((resolve, reject) => {
    const socket = connectTcp({ host, port, timeout: 5_000 });
    const fail = (message: string) => {
      socket.destroy();
      reject(new Error(`tests need RabbitMQ at ${host}:${port} (set SWITCHYARD_TEST_AMQP_URL): ${message}`));
    };
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => fail('connection timed out'));
    socket.once('error', (error) => fail(error.message));
  });
}

/** A fresh, empty vhost of its own for one test file, with full permissions for the URL's user. */
export async function createTestVhost(label = 'test'): Promise<TestVhost> {
  await assertReachable();
  const name = `switchyard_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const base = new URL(TEST_AMQP_URL);
  const user = decodeURIComponent(base.username) || 'guest';
  await rabbitmqctl(['add_vhost', name]);
  try {
    await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  } catch (error) {
    await rabbitmqctl(['delete_vhost', name]).catch(() => {});
    throw error;
  }
  const url = new URL(TEST_AMQP_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      try {
        await rabbitmqctl(['delete_vhost', name]);
      } catch (error) {
        if (!/does not exist|no_such_vhost/i.test((error as Error).message)) throw error;
      }
    },
  };
}

/**
 * Cuts every client connection of `vhost` (the broker sends connection.close 320 CONNECTION_FORCED), for
 * outage tests. Resolves with how many connections RabbitMQ closed.
 */
export async function closeConnections(vhost: string): Promise<number> {
  const output = await rabbitmqctl([
    '--quiet',
    'close_all_connections',
    '--vhost',
    vhost,
    'closed by a test',
  ]);
  const closed = /Closed (\d+) connection/.exec(output);
  return closed?.[1] ? Number(closed[1]) : 0;
}
