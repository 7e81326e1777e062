import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_IDENTITY_ENV } from './helpers.ts';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the CLI with `args` under this Node and collects its output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Starts `switchyard start` and resolves once it logs its URL; rejects if it exits first or takes too long. */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  runAs?: { uid: number; gid: number },
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN, 'start'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...TEST_IDENTITY_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...runAs,
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms\n${lines.join('\n')}\n${stderr}`));
    }, timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"switchyard started"')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before starting\n${lines.join('\n')}\n${stderr}`));
    });
  });
  return { child, url, lines, exited };
}
