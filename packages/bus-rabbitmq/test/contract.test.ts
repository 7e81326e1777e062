import { busMigrations, createBrokerBus } from '@switchyard/bus';
import { busContract } from '@switchyard/bus/contract';
import { createRabbitTransport } from '@switchyard/bus-rabbitmq';
import { createPool, migrate, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, silentLogger } from '@switchyard/testing';
import { createTestVhost } from '@switchyard/testing/rabbitmq';

busContract('rabbitmq', async () => {
  const log = silentLogger();
  const database = await createTestDatabase('contract_rabbit');
  const vhost = await createTestVhost('contract');
  const pool = createPool({
    connectionString: database.url,
    maxConnections: 20,
    applicationName: 'contract',
  });
  await migrate(pool, [busMigrations], log);
  const raw = createRabbitTransport({ url: vhost.url, log });
  return {
    pool,
    sharesLoad: true,
    deliversBatches: true,
    childEnv: { BUS: 'rabbitmq', DATABASE_URL: database.url, AMQP_URL: vhost.url },
    createBus: () =>
      createBrokerBus({
        pool,
        log,
        clock: systemClock,
        ids: uuidV7,
        transport: createRabbitTransport({ url: vhost.url, log, reconnectDelayMs: 100 }),
        topics: [],
        relayBatchSize: 100,
        pollIntervalMs: 200,
      }),
    async publishRaw(topic, key, value) {
      await raw.connect([topic]);
      await raw.publish([{ topic, key, value, headers: {} }]);
    },
    async close() {
      await raw.close();
      await pool.end();
      await database.drop();
      await vhost.drop();
    },
  };
});
