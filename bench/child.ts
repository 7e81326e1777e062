// A server under test as a child process of the benchmark, so the load generator (autocannon, in the
// benchmark's process) never shares an event loop with it. The same steps as bench/tasks.ts: start under
// the pinned Node, read its JSON log until a ready line, keep reading for its whole life (its pipe never
// fills; request lines are only counted), SIGTERM to stop, SIGKILL when that does not work.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Node 24 the project pins; the machine's own `node` may be older. */
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

export type LogEntry = Record<string, unknown>;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  name: string;
  process: ChildProcess;
  exit: Promise<ExitStatus>;
  /** Last lines of stderr and of non-request stdout, for a failure message. */
  tail: string[];
  logLines: number;
  errorLines: string[];
}

export class ChildError extends Error {
  override name = 'ChildError';
}

function remember(lines: string[], line: string, keep = 40): void {
  lines.push(line);
  if (lines.length > keep) lines.shift();
}

function parseEntry(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as LogEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Spawns `node [nodeArgs] args` and resolves once `ready` returns a value for one of its log lines.
 */
export async function startChild<T>(options: {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  ready: (entry: LogEntry) => T | undefined;
  /** Flags for Node itself, e.g. --cpu-prof. */
  nodeArgs?: string[];
}): Promise<{ child: Child; value: T }> {
  const { name, ready } = options;
  const proc = spawn(NODE, [...(options.nodeArgs ?? []), ...options.args], {
    cwd: ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<ExitStatus>((resolve) => {
    // 'close' rather than 'exit': it comes after the last output line was read.
    proc.once('close', (code, signal) => resolve({ code, signal }));
    // A child that could not be spawned at all never emits 'exit'.
    proc.once('error', () => {
      if (proc.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  const child: Child = { name, process: proc, exit, tail: [], logLines: 0, errorLines: [] };

  let settle: (value: T) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const readyValue = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ChildError(`${name}: not ready after ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    settle = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    fail = (error) => {
      clearTimeout(timer);
      reject(error);
    };
  });
  let found = false;
  // Rejecting after the ready line was seen is a no-op: later exits are reported by stopChild.
  proc.once('error', (error) => fail(new ChildError(`${name}: could not start: ${error.message}`)));
  void exit.then(({ code, signal }) =>
    fail(new ChildError(`${name}: exited before it was ready (code ${code}, signal ${signal})`)),
  );

  createInterface({ input: proc.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    remember(child.tail, `[stderr] ${line}`);
  });
  createInterface({ input: proc.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    child.logLines += 1;
    if (line.includes('"msg":"request completed"') && line.includes('"level":"info"')) return;
    remember(child.tail, line);
    const entry = parseEntry(line);
    if (!entry) return;
    if ((entry.level === 'error' || entry.level === 'fatal') && child.errorLines.length < 20) {
      child.errorLines.push(line);
    }
    if (!found) {
      const value = ready(entry);
      if (value !== undefined) {
        found = true;
        settle(value);
      }
    }
  });
  try {
    return { child, value: await readyValue };
  } catch (error) {
    await stopChild(child, () => {}).catch(() => {});
    const detail = child.tail.length > 0 ? `\n--- last output of ${name} ---\n${child.tail.join('\n')}` : '';
    throw new ChildError(`${(error as Error).message}${detail}`);
  }
}

/** SIGTERM, then waits for the exit; SIGKILL if it does not come in time. Returns the exit status. */
export async function stopChild(child: Child, say: (text: string) => void): Promise<ExitStatus> {
  const proc = child.process;
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
  const outcome = await Promise.race([
    child.exit,
    sleep(STOP_TIMEOUT_MS, 'timeout' as const, { ref: false }),
  ]);
  if (outcome !== 'timeout') return outcome;
  say(`${child.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it`);
  proc.kill('SIGKILL');
  return child.exit;
}

export function pidsOf(child: Child): number[] {
  return child.process.pid === undefined ? [] : [child.process.pid];
}
