import { busMigrations, createBrokerBus } from '@switchyard/bus';
import { busContract } from '@switchyard/bus/contract';
import { createKafkaTransport } from '@switchyard/bus-kafka';
import { createPool, migrate, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, silentLogger } from '@switchyard/testing';
import { testKafkaBrokers } from '@switchyard/testing/kafka';

busContract('kafka', async () => {
  const log = silentLogger();
  const brokers = await testKafkaBrokers();
  const database = await createTestDatabase('contract_kafka');
  const pool = createPool({
    connectionString: database.url,
    maxConnections: 20,
    applicationName: 'contract',
  });
  await migrate(pool, [busMigrations], log);
  const transport = () =>
    createKafkaTransport({ brokers: [brokers], clientId: 'contract', partitions: 3, log, retryDelayMs: 200 });
  const raw = transport();
  return {
    pool,
    sharesLoad: true,
    deliversBatches: true,
    childEnv: { BUS: 'kafka', DATABASE_URL: database.url, KAFKA_BROKERS: brokers },
    createBus: () =>
      createBrokerBus({
        pool,
        log,
        clock: systemClock,
        ids: uuidV7,
        transport: transport(),
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
    },
  };
});
