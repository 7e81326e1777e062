import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type RunningSwitchyard, startSwitchyard } from '@switchyard/server';
import { testConfig } from '@switchyard/server/test-helpers';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import openapiTS, { astToString } from 'openapi-typescript';

const SCHEMA_FILE = new URL('../src/api/schema.d.ts', import.meta.url);
const HEADER = `// Generated from the running server's /openapi.json by apps/dashboard/test/api-schema.test.ts.
// Do not edit: refresh with SWITCHYARD_WRITE_DOCS=1 node --test apps/dashboard/test/api-schema.test.ts
`;

/**
 * The dashboard's API types are generated from the OpenAPI document every service's route schemas build,
 * and this test fails when the two drift apart, so a changed route breaks `npm run check` of the
 * dashboard instead of a page at run time.
 */
describe('the dashboard API types', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  before(async () => {
    database = await createTestDatabase('dashboard_api_schema');
    server = await startSwitchyard(testConfig(database.url), silentLogger());
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  it('match the OpenAPI document of the running server', async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as Parameters<typeof openapiTS>[0];
    const generated = HEADER + astToString(await openapiTS(document, { alphabetize: true }));
    if (process.env.SWITCHYARD_WRITE_DOCS === '1') writeFileSync(SCHEMA_FILE, generated);
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    assert.ok(
      committed === generated,
      'apps/dashboard/src/api/schema.d.ts is out of date; refresh it with SWITCHYARD_WRITE_DOCS=1 (see its header)',
    );
  });
});
