#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, migrate } from '@switchyard/kernel';
import { ConfigError, readConfig } from './config.ts';
import { migrationSets, openDatabase, startSwitchyard } from './server.ts';
import { SERVICE_NAMES } from './services.ts';
import { version } from './version.ts';

const USAGE = `Usage: switchyard <command> [options]

Commands:
  start       run the selected services (all by default) and the HTTP API
  migrate     apply pending database migrations, then exit

Options:
  --services <list>   comma list of services to run (${SERVICE_NAMES.join(', ')}); overrides SWITCHYARD_SERVICES
  -h, --help          show this help
  -v, --version       print the version

Environment: PORT, HOST, SWITCHYARD_DATA_DIR, DATABASE_URL, SWITCHYARD_BUS, SWITCHYARD_SERVICES, NODE_ENV, LOG_LEVEL.
Without DATABASE_URL an embedded PostgreSQL is started in SWITCHYARD_DATA_DIR (default .switchyard).
`;

/** Exit status for bad usage or configuration, as the CLI documents. */
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
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
