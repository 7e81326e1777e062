import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { can, PERMISSIONS, ROLE_PERMISSIONS, ROLES } from '@switchyard/contracts';
import type { RouteEntry } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { bearer, call, testConfig, userWithRole } from './helpers.ts';

const DOC = new URL('../../../docs/permissions.md', import.meta.url);
const BEGIN = '<!-- routes:begin -->';
const END = '<!-- routes:end -->';
const ANY_ID = '0190a6f6-0000-7000-8000-000000000000';

function concretePath(url: string): string {
  // `::` is Fastify's escape for a literal colon (`/events::batch` serves `/events:batch`).
  return url
    .replaceAll('::', '\u0000')
    .replace(/:[A-Za-z_]+/g, ANY_ID)
    .replaceAll('\u0000', ':');
}

/** The route and role tables docs/permissions.md must hold, built from the running server. */
function permissionTables(routes: readonly RouteEntry[]): string {
  const roleHeader = `| permission | ${ROLES.join(' | ')} |`;
  const roleRule = `|---|${ROLES.map(() => '---').join('|')}|`;
  const roleRows = PERMISSIONS.map(
    (permission) =>
      `| \`${permission}\` | ${ROLES.map((role) => (ROLE_PERMISSIONS[role].has(permission) ? 'yes' : '—')).join(' | ')} |`,
  );
  const routeRows = [...routes]
    .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method))
    .map((route) => `| ${route.method} | \`${route.url}\` | \`${route.permission}\` |`);
  return [
    BEGIN,
    '',
    '### Roles',
    '',
    roleHeader,
    roleRule,
    ...roleRows,
    '',
    '### Routes',
    '',
    '| method | path | permission |',
    '|---|---|---|',
    ...routeRows,
    '',
    END,
  ].join('\n');
}

describe('RBAC: every route declares a permission, and the server enforces it', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  const tokens: Record<string, string> = {};

  before(async () => {
    database = await createTestDatabase('rbac');
    server = await startSwitchyard(testConfig(database.url), silentLogger());
    for (const role of ['member', 'operator'] as const)
      tokens[role] = (await userWithRole(server.url, role)).access_token;
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  it('answers 401 without an identity on every route that is not public', async () => {
    const protectedRoutes = server.routes.filter((route) => route.permission !== 'public');
    assert.ok(protectedRoutes.length > 30, `only ${protectedRoutes.length} protected routes registered`);
    for (const route of protectedRoutes) {
      const response = await call(server.url, route.method, concretePath(route.url), {
        ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { json: {} } : {}),
      });
      assert.equal(response.status, 401, `${route.method} ${route.url}`);
    }
  });

  it('answers 403 to each role that lacks the route permission, before reading the body', async () => {
    let refusals = 0;
    for (const route of server.routes.filter((entry) => entry.permission !== 'public')) {
      for (const role of ['member', 'operator'] as const) {
        if (can(role, route.permission)) continue;
        const response = await call(server.url, route.method, concretePath(route.url), {
          headers: bearer(tokens[role] as string),
          ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { json: {} } : {}),
        });
        assert.equal(response.status, 403, `${role} ${route.method} ${route.url}`);
        refusals += 1;
      }
    }
    assert.ok(refusals > 10, `only ${refusals} refusals checked`);
  });

  it('lets each role that holds a read permission through (no 401 or 403)', async () => {
    for (const route of server.routes.filter(
      (entry) => entry.method === 'GET' && entry.permission !== 'public',
    )) {
      for (const role of ['member', 'operator'] as const) {
        if (!can(role, route.permission)) continue;
        // Streams never end by themselves: read the status, then hang up.
        const controller = new AbortController();
        const response = await fetch(`${server.url}${concretePath(route.url)}`, {
          headers: bearer(tokens[role] as string),
          signal: controller.signal,
        });
        controller.abort();
        assert.ok(
          ![401, 403].includes(response.status),
          `${role} ${route.method} ${route.url}: ${response.status}`,
        );
      }
    }
  });

  it("shows members only their own tasks; operators see everyone's", async () => {
    const alice = await userWithRole(server.url, 'member');
    const bob = await userWithRole(server.url, 'member');
    const created = await call<{ id: string; owner_id: string }>(server.url, 'POST', '/api/v1/tasks', {
      headers: bearer(alice.access_token),
      json: { title: 'alice only' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.owner_id, alice.user.id);
    const path = `/api/v1/tasks/${created.body.id}`;
    const asBob = bearer(bob.access_token);
    assert.equal((await call(server.url, 'GET', path, { headers: asBob })).status, 404);
    assert.equal(
      (await call(server.url, 'PUT', path, { headers: asBob, json: { title: 'mine now' } })).status,
      404,
    );
    assert.equal((await call(server.url, 'DELETE', path, { headers: asBob })).status, 404);
    const bobsList = await call<{ id: string }[]>(server.url, 'GET', '/api/v1/tasks', { headers: asBob });
    assert.ok(!bobsList.body.some((task) => task.id === created.body.id));
    const alicesList = await call<{ id: string }[]>(server.url, 'GET', '/api/v1/tasks', {
      headers: bearer(alice.access_token),
    });
    assert.deepEqual(
      alicesList.body.map((task) => task.id),
      [created.body.id],
    );
    const operator = await call(server.url, 'GET', path, { headers: bearer(tokens.operator as string) });
    assert.equal(operator.status, 200);
  });

  it('has every route and the role matrix written in docs/permissions.md', async () => {
    const expected = permissionTables(server.routes);
    const doc = await readFile(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    const current = start >= 0 && end > start ? doc.slice(start, end + END.length) : '';
    if (current !== expected && process.env.SWITCHYARD_WRITE_DOCS === '1') {
      await writeFile(DOC, start >= 0 ? doc.replace(current, expected) : `${doc.trimEnd()}\n\n${expected}\n`);
      return;
    }
    assert.equal(
      current,
      expected,
      'docs/permissions.md is out of date: run this test with SWITCHYARD_WRITE_DOCS=1',
    );
  });
});
