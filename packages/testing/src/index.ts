export { silentLogger } from './logger.ts';
export { createTestDatabase, TEST_SERVER_URL, type TestDatabase } from './postgres.ts';
