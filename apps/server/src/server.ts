import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Bus, busMigrations, createBrokerBus, registerDeadLetterRoutes } from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { type Cache, createMemoryCache } from '@switchyard/cache';
import {
  can,
  type ServiceClients,
  type ServiceDeps,
  type ServiceModule,
  SOURCE_TOPICS,
} from '@switchyard/contracts';
import { type FcmServiceAccount, type MailCapture, startMailCapture } from '@switchyard/delivery';
import {
  type Clock,
  createHttpApp,
  createMetrics,
  createMigrationCheck,
  createPool,
  type Logger,
  type Metrics,
  type MigrationSet,
  migrate,
  type Pool,
  type RouteEntry,
  registerOperationalRoutes,
  routeTable,
  systemClock,
  uuidV7,
} from '@switchyard/kernel';
import type { BusConfig, Config } from './config.ts';
import { createConsumerThreadBus } from './consumer-thread.ts';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';
import {
  createOverviewRecorder,
  type HandledCounter,
  registerOverviewRoutes,
  runtimeMode,
} from './overview.ts';
import { IDENTITY_SERVICES, SERVICE_NAMES, type ServiceName, serviceModules } from './services.ts';
import { version } from './version.ts';

export interface RunningSwitchyard {
  /** Base URL the HTTP server listens on. */
  url: string;
  databaseUrl: string;
  /** Every route the HTTP API serves, with its permission. */
  routes: readonly RouteEntry[];
  /** True when the consumer groups run in a thread of their own (SWITCHYARD_CONSUMER_THREAD). */
  consumerThread: boolean;
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

/** The modules this build has, configured; identity settings come from `config`. */
export function modulesFor(
  config: Config,
  secretKey: Buffer,
  announce: (message: string) => void,
  fcmServiceAccount?: FcmServiceAccount,
  mailCapture?: MailCapture,
) {
  return serviceModules({
    activityEventTypes: config.activityEventTypes,
    liveRecheckIntervalMs: config.liveRecheckSeconds * 1000,
    auth: {
      secretKey,
      issuer: 'Switchyard',
      keyRotationSeconds: 30 * 24 * 3600,
      firstAdmin: config.firstAdmin,
      announce,
    },
    gateway: {
      corsOrigins: config.gateway.corsOrigins,
      hsts: config.gateway.hsts,
      rateLimit: {
        anonymous: config.gateway.anonymousRateLimit,
        authenticated: config.gateway.authenticatedRateLimit,
      },
      upstreams: config.gateway.upstreams,
      upstreamTimeoutMs: config.gateway.upstreamTimeoutMs,
      dashboardDir: config.gateway.dashboardDir,
    },
    delivery: {
      smtpUrl: config.delivery.smtpUrl,
      smtpFallbackUrl: config.delivery.smtpFallbackUrl,
      smtpMaxConnections: config.delivery.smtpMaxConnections,
      mailFrom: config.delivery.mailFrom,
      fcm: fcmServiceAccount
        ? { serviceAccount: fcmServiceAccount, baseUrl: config.delivery.fcmUrl }
        : undefined,
      vapid: config.delivery.vapid,
      twilio: config.delivery.twilio,
      // Without its own secret, webhooks are signed with one derived from the installation's.
      webhookSecret:
        config.delivery.webhookSecret ??
        createHmac('sha256', secretKey).update('switchyard webhook signing').digest('base64url'),
      allowPrivateTargets: config.delivery.allowPrivateTargets,
      ...(mailCapture ? { mailCapture } : {}),
    },
  });
}

/** SWITCHYARD_FCM_SERVICE_ACCOUNT holds the JSON Google gives, or the path of the file it is in. */
export async function readFcmServiceAccount(
  value: string | undefined,
): Promise<FcmServiceAccount | undefined> {
  if (!value) return undefined;
  const text = value.trim().startsWith('{') ? value : await readFile(value, 'utf8');
  const parsed = JSON.parse(text) as Partial<FcmServiceAccount>;
  if (!parsed.project_id || !parsed.client_email || !parsed.private_key) {
    throw new Error(
      'SWITCHYARD_FCM_SERVICE_ACCOUNT: expected a service-account JSON with project_id, client_email and private_key',
    );
  }
  return parsed as FcmServiceAccount;
}

/** The services whose schemas this process needs: the selected ones plus identity. */
export function runningServiceNames(config: Config): ServiceName[] {
  return SERVICE_NAMES.filter((name) => config.services.includes(name) || IDENTITY_SERVICES.includes(name));
}

export function migrationSets(config: Config): MigrationSet[] {
  // Migrations are plain files: reading them needs no secret.
  const services = modulesFor(config, Buffer.alloc(32), () => {});
  return [
    busMigrations,
    postgresBusMigrations,
    ...runningServiceNames(config).flatMap((name) => services[name].migrations),
  ];
}

/**
 * SWITCHYARD_SECRET_KEY, or outside production a secret generated once and kept in the data dir (so a
 * laptop install needs no setup and keeps its sessions across restarts).
 */
export async function resolveSecretKey(config: Config): Promise<Buffer> {
  if (config.secretKey) return Buffer.from(config.secretKey, 'utf8');
  if (config.nodeEnv === 'production') throw new Error('SWITCHYARD_SECRET_KEY is required in production');
  const path = join(config.dataDir, 'secret-key');
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(32);
  try {
    await writeFile(path, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  }
}

export async function openCache(config: Config, metrics: Metrics, log: Logger): Promise<Cache> {
  if (!config.redisUrl) return createMemoryCache({ metrics });
  const { createRedisCache } = await import('@switchyard/cache/redis');
  return createRedisCache({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, metrics, log });
}

/**
 * The bus the configuration names; broker adapters are loaded only when chosen. On RabbitMQ, source C's notification work takes its documented path: the
 * delivery work for email and push is also published to `notifications.direct` (routing key `email` /
 * `push`), so it waits in `email.queue` / `push.queue` whether or not a delivery worker runs; the
 * `delivery-email` / `delivery-push` groups read those queues instead of queues of their own, and what they
 * dead-letter RabbitMQ moves through `notifications.dlx` to `failed.queue` (it is in `bus.dead_letters`
 * too, for replay). Every other event and group keeps the transport's generic topology.
 */
export async function createBus(config: BusConfig, pool: Pool, log: Logger): Promise<Bus> {
  const deps = { pool, log, clock: systemClock, ids: uuidV7 };
  // 500 events a pass: a group reads every event of its topics, and on `notifications` only one in
  // three is a delivery worker's (the rest are requests and reports), so 100 left a worker ~35 sends a
  // pass, and the pass's fixed cost (its statements, the wait for its slowest send) capped email at
  // ~360/s (docs/BENCHMARKS.md).
  if (config.kind === 'postgres') return createPostgresBus({ ...deps, pollIntervalMs: 500, batchSize: 500 });
  const transport =
    config.kind === 'kafka'
      ? (await import('@switchyard/bus-kafka')).createKafkaTransport({
          brokers: config.brokers,
          clientId: 'switchyard',
          partitions: config.partitions,
          log,
        })
      : await rabbitTransport(config.url, config.namespace);

  async function rabbitTransport(url: string, namespace: string) {
    const rabbit = await import('@switchyard/bus-rabbitmq');
    // Source C's queue names are fixed, so installations sharing a broker through a namespace would share
    // them too: a namespaced installation keeps queues of its own for these groups as well.
    if (namespace !== '') {
      log.info(
        { namespace },
        "SWITCHYARD_BUS_NAMESPACE is set: notification work does not use source C's email.queue / push.queue",
      );
      return rabbit.createRabbitTransport({ url, log });
    }
    const to = (routingKey: string, queue: string) => ({
      exchange: rabbit.NOTIFICATIONS_EXCHANGE,
      routingKey,
      queue,
    });
    return rabbit.createRabbitTransport({
      url,
      log,
      routes: [
        {
          topic: 'notifications',
          type: 'notification.delivery.requested',
          dataField: 'channel',
          values: {
            email: to(rabbit.EMAIL_ROUTING_KEY, rabbit.EMAIL_QUEUE),
            push: to(rabbit.PUSH_ROUTING_KEY, rabbit.PUSH_QUEUE),
          },
        },
      ],
      groupQueues: { 'delivery-email': rabbit.EMAIL_QUEUE, 'delivery-push': rabbit.PUSH_QUEUE },
    });
  }

  return createBrokerBus({
    ...deps,
    transport,
    topics: SOURCE_TOPICS,
    relayBatchSize: 500,
    pollIntervalMs: 500,
    namespace: config.namespace,
  });
}

/** What each service is given: the shared dependencies, with a logger named for the service. */
export function serviceDepsOf(shared: Omit<ServiceDeps, 'log'>, log: Logger): (name: string) => ServiceDeps {
  return (name) => ({ ...shared, log: log.child({ service: name }) });
}

/** Subscribes the groups of the `names` services on `bus`, counted; returns each service's groups. */
export function subscribeServices(
  services: Record<ServiceName, ServiceModule>,
  names: readonly ServiceName[],
  depsOf: (name: ServiceName) => ServiceDeps,
  bus: Bus,
  counter: HandledCounter,
): { name: string; groups: string[] }[] {
  return names.map((name) => {
    const groups: string[] = [];
    for (const subscription of services[name].subscriptions?.(depsOf(name)) ?? []) {
      bus.subscribe(
        subscription.group,
        subscription.topics,
        counter.counted(subscription.handler),
        subscription.options.batchHandler
          ? { ...subscription.options, batchHandler: counter.countedBatch(subscription.options.batchHandler) }
          : subscription.options,
      );
      groups.push(subscription.group);
    }
    return { name, groups };
  });
}

export interface StartOptions {
  /** Where to show a person what they must act on (the setup link); the terminal by default. */
  announce?: (message: string) => void;
  /** Tests move time forward (lockout expiry, token expiry) with their own clock. */
  clock?: Clock;
  /** The consumer thread stopped unasked (after its error is logged); `switchyard start` exits on it. */
  onConsumerFailure?: (error: Error) => void;
}

export async function startSwitchyard(
  config: Config,
  log: Logger,
  options: StartOptions = {},
): Promise<RunningSwitchyard> {
  const processLog = log.child({ service: 'switchyard' });
  const announce = options.announce ?? ((message: string) => process.stdout.write(`\n${message}\n\n`));
  const clock = options.clock ?? systemClock;
  const secretKey = await resolveSecretKey(config);
  const database = await openDatabase(config, processLog);
  const metrics = createMetrics();
  let cache: Cache | undefined;
  let bus: Bus | undefined;
  let mailCapture: MailCapture | undefined;
  try {
    const sets = migrationSets(config);
    await migrate(database.pool, sets, processLog);
    const migrationsApplied = await createMigrationCheck(database.pool, sets);

    cache = await openCache(config, metrics, log.child({ service: 'cache' }));
    const openedCache = cache;
    const fcmServiceAccount = await readFcmServiceAccount(config.delivery.fcmServiceAccount);
    // A test's clock is a function, which cannot cross to another thread: such a run consumes here.
    // Which services consume is a property of the modules, not of their settings.
    const threaded =
      config.consumerThread &&
      options.clock === undefined &&
      config.services.some((name) => modulesFor(config, secretKey, () => {})[name].subscriptions);
    // The dev inbox is served here, so the capture must live here too; the worker sends to it.
    if (threaded && config.services.includes('delivery') && !config.delivery.smtpUrl) {
      mailCapture = await startMailCapture({ port: 0 });
      processLog.info(
        { smtp: mailCapture.url },
        'no SMTP_URL: mail is captured and shown at /api/v1/dev/mail',
      );
    }
    const services = modulesFor(config, secretKey, announce, fcmServiceAccount, mailCapture);
    const recorder = createOverviewRecorder(clock);
    const consumerThread = threaded
      ? createConsumerThreadBus({
          data: {
            config: mailCapture
              ? { ...config, delivery: { ...config.delivery, smtpUrl: mailCapture.url } }
              : config,
            logLevel: log.level,
            secretKey,
            fcmServiceAccount,
            databaseUrl: database.url,
          },
          sharedCache: config.redisUrl ? undefined : openedCache,
          log: processLog,
          onHandled: (count) => recorder.ring.add('handled', count, clock().getTime()),
          onFailure: (error) => {
            processLog.fatal({ err: error }, 'the consumer thread failed: events wait in the outbox');
            options.onConsumerFailure?.(error);
          },
        })
      : undefined;
    bus = consumerThread ?? (await createBus(config.bus, database.pool, log.child({ service: 'bus' })));
    const openedBus = bus;
    const clients: ServiceClients = {};
    const depsOf = serviceDepsOf(
      { db: database.pool, clock, ids: uuidV7, bus: openedBus, cache: openedCache, metrics, clients },
      log,
    );
    const names = runningServiceNames(config);
    for (const name of names) Object.assign(clients, services[name].provides?.(depsOf(name)));
    const authenticate = services.auth.authenticator?.(depsOf('auth'));
    if (!authenticate) throw new Error('the auth service offers no authenticator');

    const app = await createHttpApp({
      logger: log.child({ service: 'http' }),
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      title: 'Switchyard',
      version,
      access: { authenticate, authorize: can },
    });
    const checks = [
      {
        name: 'database',
        detail: config.databaseUrl ? 'postgresql' : 'embedded postgresql',
        check: async () => (await database.pool.query('SELECT 1')).rowCount === 1,
      },
      { name: 'migrations', detail: `${sets.length} schemas`, check: migrationsApplied },
      { name: 'cache', detail: config.redisUrl ? 'redis' : 'memory', check: () => openedCache.ping() },
    ];
    registerOperationalRoutes(app, metrics, checks);

    for (const name of config.services) services[name].plugins?.(app, depsOf(name));
    registerDeadLetterRoutes(app, database.pool);
    for (const name of config.services) await services[name].routes?.(app, depsOf(name));
    let subscribed: { name: string; groups: string[] }[];
    if (consumerThread) {
      await consumerThread.start();
      metrics.linked.push(() => consumerThread.metrics());
      subscribed = consumerThread.subscribed;
    } else {
      subscribed = subscribeServices(services, config.services, depsOf, openedBus, recorder);
      await openedBus.start();
    }
    const stopOverview = registerOverviewRoutes(app, recorder, {
      pool: database.pool,
      bus: openedBus,
      clock,
      version,
      mode: runtimeMode({
        busKind: openedBus.kind,
        redis: config.redisUrl !== undefined,
        allServices: SERVICE_NAMES.every((name) => config.services.includes(name)),
      }),
      startedAt: clock(),
      checks,
      services: subscribed,
    });

    const url = await app.listen({ port: config.port, host: config.host });
    for (const name of names)
      await services[name].start?.(depsOf(name), { url, server: app.server, authenticate });
    processLog.info(
      { url, services: config.services, version, consumerThread: consumerThread !== undefined },
      'switchyard started',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      databaseUrl: database.url,
      routes: routeTable(app),
      consumerThread: consumerThread !== undefined,
      drain: (group) => openedBus.drain(group),
      close() {
        closing ??= (async () => {
          await app.close();
          stopOverview();
          await openedBus.stop();
          for (const name of names) await services[name].close?.();
          await mailCapture?.close();
          await openedCache.close();
          await database.close();
          processLog.info('switchyard stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await bus?.stop().catch(() => {});
    await mailCapture?.close().catch(() => {});
    await cache?.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}
