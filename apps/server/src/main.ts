#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createPostgresBus } from '@switchyard/bus-postgres';
import { createMemoryCache } from '@switchyard/cache';
import { createLogger, createMetrics, migrate, systemClock, uuidV7 } from '@switchyard/kernel';
import { usersService } from '@switchyard/users';
import { ADMIN_USAGE, AdminUsageError, adminCommand } from './admin-cli.ts';
import { ConfigError, readConfig } from './config.ts';
import { DEAD_LETTERS_USAGE, deadLettersCommand, UsageError } from './dead-letters-cli.ts';
import { migrationSets, openDatabase, startSwitchyard } from './server.ts';
import { SERVICE_NAMES } from './services.ts';
import { version } from './version.ts';

const USAGE = `Usage: switchyard <command> [options]

Commands:
  start       run the selected services (all by default) and the HTTP API
  migrate     apply pending database migrations, then exit
  dead-letters list|replay|discard   work with messages consumers gave up on (see dead-letters --help)
  admin create --email <email>       create an admin (password from SWITCHYARD_ADMIN_PASSWORD or stdin)

Options:
  --services <list>   comma list of services to run (${SERVICE_NAMES.join(', ')}); overrides SWITCHYARD_SERVICES
  -h, --help          show this help
  -v, --version       print the version

Environment: PORT, HOST, SWITCHYARD_DATA_DIR, DATABASE_URL, SWITCHYARD_BUS, KAFKA_BROKERS, AMQP_URL,
REDIS_URL, SWITCHYARD_SERVICES, SWITCHYARD_SECRET_KEY, SWITCHYARD_ADMIN_EMAIL, SWITCHYARD_ADMIN_PASSWORD,
SWITCHYARD_CORS_ORIGINS, SWITCHYARD_RATE_LIMIT_*, SWITCHYARD_UPSTREAMS, NODE_ENV, LOG_LEVEL (see README).
Without DATABASE_URL an embedded PostgreSQL is started in SWITCHYARD_DATA_DIR (default .switchyard).
`;

/** Exit status for bad usage or configuration, as the CLI documents. */
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'dead-letters') return deadLetters(argv.slice(1));
  if (argv[0] === 'admin') return admin(argv.slice(1));
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`switchyard: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === 'help' || command === undefined) {
    (command === undefined && !values.help ? process.stderr : process.stdout).write(USAGE);
    return command === undefined && !values.help ? EXIT_USAGE : 0;
  }
  if (command !== 'start' && command !== 'migrate') {
    process.stderr.write(`switchyard: unknown command ${JSON.stringify(command)}; see switchyard --help\n`);
    return EXIT_USAGE;
  }

  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(process.env, values.services);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel, writeInBackground: true });

  if (command === 'migrate') {
    const database = await openDatabase(config, log);
    try {
      await migrate(database.pool, migrationSets(config), log.child({ service: 'switchyard' }));
    } finally {
      await database.close();
    }
    return 0;
  }

  let stopForFailure: (() => void) | undefined;
  const running = await startSwitchyard(config, log, {
    // Without its consumers the process would accept work it never delivers: stop, and let the
    // supervisor start it again (what was accepted waits in the outbox).
    onConsumerFailure: () => {
      process.exitCode = 1;
      stopForFailure?.();
    },
  });
  await new Promise<void>((resolve) => {
    stopForFailure = () => {
      running.close().then(resolve, resolve);
    };
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      log.info({ signal }, 'shutting down');
      running.close().then(resolve, (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

/** Runs against the database of a running Switchyard (embedded or DATABASE_URL). */
async function deadLetters(args: string[]): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(DEAD_LETTERS_USAGE);
    return args.length === 0 ? EXIT_USAGE : 0;
  }
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const database = await openDatabase(config, log, { shareRunning: true });
  try {
    // A database no server has started yet may lack the bus schema; migrating is a no-op otherwise.
    await migrate(database.pool, migrationSets(config), log);
    return await deadLettersCommand(args, database.pool, (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`switchyard dead-letters: ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    await database.close();
  }
}

/** Creates an admin in the database of a running (or stopped) Switchyard. */
async function admin(args: string[]): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    (args.length === 0 ? process.stderr : process.stdout).write(ADMIN_USAGE);
    return args.length === 0 ? EXIT_USAGE : 0;
  }
  let config: ReturnType<typeof readConfig>;
  try {
    // The first-admin variables are read here, not by readConfig: a weak password is this command's error.
    config = readConfig({ ...process.env, SWITCHYARD_ADMIN_EMAIL: '', SWITCHYARD_ADMIN_PASSWORD: '' });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const log = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const database = await openDatabase(config, log, { shareRunning: true });
  try {
    await migrate(database.pool, migrationSets(config), log);
    const users = usersService.provides?.({
      db: database.pool,
      log,
      clock: systemClock,
      ids: uuidV7,
      bus: createPostgresBus({
        pool: database.pool,
        log,
        clock: systemClock,
        ids: uuidV7,
        pollIntervalMs: 500,
        batchSize: 100,
      }),
      cache: createMemoryCache({}),
      metrics: createMetrics(),
      clients: {},
    }).users;
    if (!users) throw new Error('the users service offers no directory');
    return await adminCommand(args, {
      users,
      passwordFromEnv: process.env.SWITCHYARD_ADMIN_PASSWORD,
      stdin: process.stdin,
      out: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof AdminUsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`switchyard admin: ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    await database.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      services: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
