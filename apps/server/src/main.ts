#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, migrate } from '@switchyard/kernel';
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

Options:
  --services <list>   comma list of services to run (${SERVICE_NAMES.join(', ')}); overrides SWITCHYARD_SERVICES
  -h, --help          show this help
  -v, --version       print the version

Environment: PORT, HOST, SWITCHYARD_DATA_DIR, DATABASE_URL, SWITCHYARD_BUS, KAFKA_BROKERS, AMQP_URL,\nSWITCHYARD_SERVICES, NODE_ENV, LOG_LEVEL.
Without DATABASE_URL an embedded PostgreSQL is started in SWITCHYARD_DATA_DIR (default .switchyard).
`;

/** Exit status for bad usage or configuration, as the CLI documents. */
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'dead-letters') return deadLetters(argv.slice(1));
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
  const log = createLogger({ level: config.logLevel });

  if (command === 'migrate') {
    const database = await openDatabase(config, log);
    try {
      await migrate(database.pool, migrationSets(config), log.child({ service: 'switchyard' }));
    } finally {
      await database.close();
    }
    return 0;
  }

  const running = await startSwitchyard(config, log);
  await new Promise<void>((resolve) => {
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
