import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real single-node Kafka (KRaft) for tests, run from the jars scripts/kafka/fetch.sh takes from Maven
 * Central. The JVM is this process's child, so a test can stop, kill and start it again (outage tests).
 */
export interface KafkaBroker {
  /** `127.0.0.1:<port>`: the same on every start. */
  readonly brokers: string;
  readonly dataDir: string;
  /** The JVM's process id while it runs. */
  readonly pid: number | undefined;
  /** SIGTERM (Kafka's controlled shutdown) and wait for the JVM to exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the JVM to exit. */
  kill(): Promise<void>;
  /** Starts the broker again on the same port with the same data, and waits until it serves. */
  start(): Promise<void>;
  /** Stops the broker and deletes its data directory if startKafka made it. */
  remove(): Promise<void>;
}

const scripts = fileURLToPath(new URL('../../../scripts/kafka/', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(scripts, script), ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`scripts/kafka/${script} failed: ${error.message}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

/** A port nobody listens on: bind port 0 and let the kernel choose. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no broker log)';
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a broker in `dataDir` (default: a new temporary directory) on free ports of 127.0.0.1 and resolves
 * once it accepts connections. Rejects, with the end of the broker's log, if it does not within 60 s.
 */
export async function startKafka(options: { dataDir?: string } = {}): Promise<KafkaBroker> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'switchyard-kafka-')));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  await run('configure.sh', [dataDir, String(port), String(controllerPort)]);
  const log = join(dataDir, 'broker.log');
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error('Kafka is running');
    if (existsSync(log)) renameSync(log, `${log}.previous`);
    const fd = openSync(log, 'w');
    const started = spawn('bash', [join(scripts, 'run.sh'), dataDir], {
      stdio: ['ignore', fd, fd],
      // run.sh stops the broker when this process is gone, however it ended.
      env: { ...process.env, KAFKA_WATCH_PID: String(process.pid) },
    });
    closeSync(fd);
    child = started;
    // The JVM must not keep the test process alive; it is stopped on exit (see testKafkaBrokers) or by stop().
    started.unref();
    let exitedEarly = false;
    started.once('exit', () => {
      exitedEarly = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exitedEarly) throw new Error(`Kafka exited during start-up:\n${logTail(log)}`);
      if (readFileSync(log, 'utf8').includes('Kafka Server started') && (await canConnect(port))) return;
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`Kafka did not start within ${READY_TIMEOUT_MS / 1000} s:\n${logTail(log)}`);
      }
      // Polling a starting JVM: there is no event to wait for.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function signal(name: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill(name);
    const timer = setTimeout(() => running.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited(running);
    clearTimeout(timer);
  }

  await start();
  return {
    brokers: `127.0.0.1:${port}`,
    dataDir,
    start,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    async remove() {
      await signal('SIGTERM');
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
  };
}

let shared: Promise<string> | undefined;

/**
 * The brokers tests use: SWITCHYARD_TEST_KAFKA_BROKERS when set (CI starts one broker for the whole run
 * with scripts/kafka/start.sh), otherwise one broker started for this test process and stopped when it
 * exits. Rejects when no broker can be had: tests fail, they are never skipped.
 */
export function testKafkaBrokers(): Promise<string> {
  const fromEnvironment = process.env.SWITCHYARD_TEST_KAFKA_BROKERS;
  if (fromEnvironment) return Promise.resolve(fromEnvironment);
  shared ??= startKafka().then(
    (broker) => {
      process.once('exit', () => {
        const pid = broker.pid;
        if (pid === undefined) return;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          return;
        }
        // 'exit' cannot wait: a detached shell removes the data once the broker has shut down.
        spawn(
          'sh',
          [
            '-c',
            'while kill -0 "$0" 2>/dev/null; do sleep 0.2; done; rm -rf "$1"',
            String(pid),
            broker.dataDir,
          ],
          {
            detached: true,
            stdio: 'ignore',
          },
        ).unref();
      });
      return broker.brokers;
    },
    (error: unknown) => {
      throw new Error(
        `tests need a Kafka broker: set SWITCHYARD_TEST_KAFKA_BROKERS or let the fixture start one (${(error as Error).message})`,
      );
    },
  );
  return shared;
}
