// Kafka for the benchmarks: a broker of their own, and Kafka's own producer benchmark
// (org.apache.kafka.tools.ProducerPerformance) as the ceiling the Switchyard paths are read against.
//
// ProducerPerformance is in org.apache.kafka:kafka-tools, which the broker's jar set (scripts/kafka) leaves
// out. bench/kafka-tools/pom.xml names it; `kafkaToolsLibs` copies it and its runtime dependencies into
// .cache/kafka-tools/<version>/libs with `mvn -q dependency:copy-dependencies`, once (a `.complete` marker
// holding the POM's sha256; a changed POM fetches again).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createKafkaTransport } from '@switchyard/bus-kafka';
import { createLogger } from '@switchyard/kernel';
import { startKafka } from '@switchyard/testing/kafka';
import { type CpuUse, measureCpu } from './cpu.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOOLS_DIR = join(ROOT, 'bench', 'kafka-tools');
const POM = join(TOOLS_DIR, 'pom.xml');
const LOG4J = join(TOOLS_DIR, 'log4j.properties');
const PERF_CLASS = 'org.apache.kafka.tools.ProducerPerformance';
const PERF_TIMEOUT_MS = 300_000;

export interface BenchKafka {
  /** `host:port` of the bootstrap broker. */
  brokers: string;
  /** The broker's JVM, when this process started it (for the CPU figures). */
  pid: number | undefined;
  /** Whether the benchmark started the broker (and `remove` stops it and deletes its data). */
  own: boolean;
  remove(): Promise<void>;
}

/** The given broker, or a single-node KRaft broker of its own (scripts/kafka, in a temporary directory). */
export async function benchKafka(given: string | undefined): Promise<BenchKafka> {
  if (given !== undefined) {
    return { brokers: given, pid: undefined, own: false, remove: async () => {} };
  }
  const broker = await startKafka();
  return {
    brokers: broker.brokers,
    get pid() {
      return broker.pid;
    },
    own: true,
    remove: () => broker.remove(),
  };
}

/** Creates `topic` with `partitions` partitions the way Switchyard does: the Kafka transport's `connect`. */
export async function createKafkaTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const transport = createKafkaTransport({
    brokers: [brokers],
    clientId: 'switchyard-bench',
    partitions,
    log: createLogger({ level: 'warn', destination: process.stderr }),
  });
  try {
    await transport.connect([topic]);
  } finally {
    await transport.close();
  }
}

function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The directory holding kafka-tools and its runtime dependencies; fetched with Maven on first use. */
export async function kafkaToolsLibs(say: (text: string) => void): Promise<string> {
  const pom = await readFile(POM, 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (version === undefined) throw new Error(`no <kafka.version> in ${POM}`);
  const libs = join(ROOT, '.cache', 'kafka-tools', version, 'libs');
  const marker = join(libs, '.complete');
  const digest = createHash('sha256').update(pom).digest('hex');
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === digest) return libs;

  say(`fetching kafka-tools ${version} and its dependencies with Maven into ${libs}`);
  const tmp = `${libs}.tmp.${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  try {
    const fetched = await run('mvn', [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ]);
    if (fetched.code !== 0) {
      throw new Error(
        `mvn dependency:copy-dependencies failed (${fetched.code}):\n${fetched.stdout}${fetched.stderr}`,
      );
    }
    if (!existsSync(join(tmp, `kafka-tools-${version}.jar`))) {
      throw new Error(`kafka-tools-${version}.jar missing after the Maven fetch`);
    }
    await rm(libs, { recursive: true, force: true });
    await rename(tmp, libs);
    await writeFile(marker, `${digest}\n`);
    return libs;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface ProducerPerformanceResult {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgMs: number;
  maxMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  /** The command as run (libs directory shortened to `<libs>`). */
  command: string;
  cpu: CpuUse | undefined;
}

/** `times` of sh: its own user and system time, then its children's (the JVM's). */
const TIMES = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/;

/** Moves the JVM's CPU (from `times`) out of "other processes" into a group of its own. */
function withJvmCpu(cpu: CpuUse | undefined, stderr: string, seconds: number): CpuUse | undefined {
  const line = stderr
    .trim()
    .split('\n')
    .reverse()
    .find((candidate) => TIMES.test(candidate.trim()));
  const match = line === undefined ? null : TIMES.exec(line.trim());
  if (!cpu || !match || seconds <= 0) return cpu;
  const cpuSeconds = Number(match[1]) * 60 + Number(match[2]) + Number(match[3]) * 60 + Number(match[4]);
  const cores = cpuSeconds / seconds;
  const byGroup = cpu.byGroup.map((group) =>
    group.name === 'other processes' ? { ...group, cores: Math.max(0, group.cores - cores) } : group,
  );
  byGroup.unshift({ name: 'ProducerPerformance (java)', cores });
  return { ...cpu, byGroup };
}

const SUMMARY =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;

/** Parses ProducerPerformance's last line (the summary over all records); undefined if there is none. */
export function parseProducerPerformance(
  output: string,
): Omit<ProducerPerformanceResult, 'command' | 'cpu'> | undefined {
  const lines = output.trim().split('\n').reverse();
  for (const line of lines) {
    const match = SUMMARY.exec(line);
    if (!match) continue;
    const n = (index: number) => Number(match[index]);
    return {
      records: n(1),
      recordsPerSecond: n(2),
      mbPerSecond: n(3),
      avgMs: n(4),
      maxMs: n(5),
      p50Ms: n(6),
      p95Ms: n(7),
      p99Ms: n(8),
      p999Ms: n(9),
    };
  }
  return undefined;
}

export interface ProducerPerformanceOptions {
  brokers: string;
  topic: string;
  /** Partitions of the topic, created first (as Switchyard creates its topics). */
  partitions: number;
  numRecords: number;
  recordSize: number;
  /** The broker's JVM, counted separately in the CPU figures. */
  brokerPid?: number | undefined;
  say: (text: string) => void;
}

/**
 * Runs `ProducerPerformance --throughput -1 --producer-props bootstrap.servers=… acks=all` (the Java client's
 * defaults otherwise: no compression, batch.size 16 KB, linger.ms 0 in 3.9) and returns its summary line.
 */
export async function producerPerformance(
  options: ProducerPerformanceOptions,
): Promise<ProducerPerformanceResult> {
  const libs = await kafkaToolsLibs(options.say);
  await createKafkaTopic(options.brokers, options.topic, options.partitions);
  const toolArgs = [
    '--topic',
    options.topic,
    '--num-records',
    String(options.numRecords),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${options.brokers}`,
    'acks=all',
  ];
  const jvm = ['-Xmx512m', `-Dlog4j.configuration=file:${LOG4J}`];
  const args = [...jvm, '-cp', `${libs}/*`, PERF_CLASS, ...toolArgs];
  options.say(
    `ProducerPerformance: ${options.numRecords} records of ${options.recordSize} bytes to ${options.topic}`,
  );

  // Through `sh` so that its `times` reports the JVM's CPU time when it has exited (a process that is gone
  // takes its /proc entry with it). Its own process group, so a timeout can kill the JVM too.
  const child = spawn('sh', ['-c', 'java "$@"; status=$?; times >&2; exit $status', 'sh', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pids: Record<string, number[]> = {};
  if (options.brokerPid !== undefined) pids['kafka broker'] = [options.brokerPid];
  const cpu = await measureCpu({ pids });
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, PERF_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  }).finally(() => clearTimeout(timer));
  const seconds = (performance.now() - started) / 1000;
  const cpuUse = withJvmCpu(await cpu.stop(), stderr, seconds);
  const summary = parseProducerPerformance(stdout);
  if (code !== 0 || summary === undefined) {
    throw new Error(
      `ProducerPerformance failed (exit ${code}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`.trim(),
    );
  }
  return {
    ...summary,
    command: ['java', ...jvm, '-cp', "'<libs>/*'", PERF_CLASS, ...toolArgs].join(' '),
    cpu: cpuUse,
  };
}
