import { type Bus, busMigrations, createBrokerBus, registerDeadLetterRoutes } from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { type ServiceDeps, SOURCE_TOPICS } from '@switchyard/contracts';
import {
  createHttpApp,
  createMetrics,
  createMigrationCheck,
  createPool,
  type Logger,
  type MigrationSet,
  migrate,
  type Pool,
  registerOperationalRoutes,
  systemClock,
  uuidV7,
} from '@switchyard/kernel';
import type { BusConfig, Config } from './config.ts';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
import { serviceModules } from './services.ts';
import { version } from './version.ts';

export interface RunningSwitchyard {
  /** Base URL the HTTP server listens on. */
  url: string;
  databaseUrl: string;
  /** Resolves once consumer `group` has handled every event committed before the call. */
  drain(group: string): Promise<void>;
  /** Stops taking requests, lets in-flight ones finish, stops consumers, then the database. */
  close(): Promise<void>;
}

/** The database to use: DATABASE_URL, or an embedded PostgreSQL started in the data dir. */
export async function openDatabase(
  config: Config,
  log: Logger,
  options: { shareRunning?: boolean } = {},
): Promise<{ url: string; pool: Pool; close(): Promise<void> }> {
  const running =
    !config.databaseUrl && options.shareRunning ? await runningEmbeddedPostgres(config.dataDir) : undefined;
  if (running) {
    const pool = createPool({
      connectionString: running,
      maxConnections: 2,
      applicationName: 'switchyard-cli',
    });
    return { url: running, pool, close: () => pool.end() };
  }
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        log: log.child({ component: 'embedded-postgres' }),
      });
  const url = config.databaseUrl ?? (embedded?.url as string);
  const pool = createPool({ connectionString: url, maxConnections: 20, applicationName: 'switchyard' });
  return {
    url,
    pool,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

export function migrationSets(config: Config): MigrationSet[] {
  const services = serviceModules(config);
  return [
    busMigrations,
    postgresBusMigrations,
    ...config.services.flatMap((name) => services[name].migrations),
  ];
}

/** The bus the configuration names; broker adapters are loaded only when chosen. */
export async function createBus(config: BusConfig, pool: Pool, log: Logger): Promise<Bus> {
  const deps = { pool, log, clock: systemClock, ids: uuidV7 };
  if (config.kind === 'postgres') return createPostgresBus({ ...deps, pollIntervalMs: 500, batchSize: 100 });
  const transport =
    config.kind === 'kafka'
      ? (await import('@switchyard/bus-kafka')).createKafkaTransport({
          brokers: config.brokers,
          clientId: 'switchyard',
          partitions: config.partitions,
          log,
        })
      : (await import('@switchyard/bus-rabbitmq')).createRabbitTransport({ url: config.url, log });
  return createBrokerBus({
    ...deps,
    transport,
    topics: SOURCE_TOPICS,
    relayBatchSize: 500,
    pollIntervalMs: 500,
    namespace: config.namespace,
  });
}

export async function startSwitchyard(config: Config, log: Logger): Promise<RunningSwitchyard> {
  const processLog = log.child({ service: 'switchyard' });
  const database = await openDatabase(config, processLog);
  try {
    const sets = migrationSets(config);
    await migrate(database.pool, sets, processLog);
    const migrationsApplied = await createMigrationCheck(database.pool, sets);

    const bus = await createBus(config.bus, database.pool, log.child({ service: 'bus' }));
    const metrics = createMetrics();
    const app = await createHttpApp({
      logger: log.child({ service: 'http' }),
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      title: 'Switchyard',
      version,
    });
    registerOperationalRoutes(app, metrics, [
      { name: 'database', check: async () => (await database.pool.query('SELECT 1')).rowCount === 1 },
      { name: 'migrations', check: migrationsApplied },
    ]);

    registerDeadLetterRoutes(app, database.pool);

    const services = serviceModules(config);
    for (const name of config.services) {
      const service = services[name];
      const deps: ServiceDeps = {
        db: database.pool,
        log: log.child({ service: name }),
        clock: systemClock,
        ids: uuidV7,
        bus,
      };
      service.routes?.(app, deps);
      for (const subscription of service.subscriptions?.(deps) ?? []) {
        bus.subscribe(subscription.group, subscription.topics, subscription.handler, subscription.options);
      }
    }

    await bus.start();
    const url = await app.listen({ port: config.port, host: config.host });
    processLog.info({ url, services: config.services, version }, 'switchyard started');

    let closing: Promise<void> | undefined;
    return {
      url,
      databaseUrl: database.url,
      drain: (group) => bus.drain(group),
      close() {
        closing ??= (async () => {
          await app.close();
          await bus.stop();
          await database.close();
          processLog.info('switchyard stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}
