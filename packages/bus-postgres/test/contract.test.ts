import { busMigrations } from '@switchyard/bus';
import { busContract } from '@switchyard/bus/contract';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { createPool, migrate, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, silentLogger } from '@switchyard/testing';

busContract('postgres', async () => {
  const log = silentLogger();
  const database = await createTestDatabase('contract_pg');
  const pool = createPool({
    connectionString: database.url,
    maxConnections: 20,
    applicationName: 'contract',
  });
  await migrate(pool, [busMigrations, postgresBusMigrations], log);
  return {
    pool,
    sharesLoad: false,
    deliversBatches: true,
    childEnv: { BUS: 'postgres', DATABASE_URL: database.url },
    createBus: () =>
      createPostgresBus({ pool, log, clock: systemClock, ids: uuidV7, pollIntervalMs: 200, batchSize: 20 }),
    async close() {
      await pool.end();
      await database.drop();
    },
  };
});
