import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpApp, createMetrics, HttpProblem, registerOperationalRoutes } from '@switchyard/kernel';
import { silentLogger } from '@switchyard/testing';
import Type from 'typebox';

async function app() {
  const metrics = createMetrics();
  const http = await createHttpApp({
    logger: silentLogger(),
    metrics,
    bodyLimitBytes: 1024,
    title: 't',
    version: '0',
  });
  registerOperationalRoutes(http, metrics, [{ name: 'database', check: async () => false }]);
  http.post(
    '/things',
    {
      schema: { body: Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false }) },
      config: { permission: 'things:write' },
    },
    async (request) => ({ name: request.body.name }),
  );
  http.get('/teapot', { config: { permission: 'public' } }, async () => {
    throw new HttpProblem(418, 'teapot', "I'm a teapot", 'short and stout');
  });
  http.get('/boom', { config: { permission: 'public' } }, async () => {
    throw new Error('database password is hunter2');
  });
  return { http, metrics };
}

describe('HTTP app', () => {
  it('echoes a well-formed x-request-id and makes one up otherwise', async () => {
    const { http } = await app();
    const given = await http.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(given.headers['x-request-id'], 'abc-123');
    const hostile = await http.inject({ url: '/health', headers: { 'x-request-id': 'a b\nc' } });
    assert.match(String(hostile.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const { http } = await app();
    const response = await http.inject({ url: '/nowhere?x=1' });
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(response.json().detail, 'No route GET /nowhere');
  });

  it('passes an HttpProblem through with its status and type', async () => {
    const { http } = await app();
    const response = await http.inject({ url: '/teapot' });
    assert.equal(response.statusCode, 418);
    assert.equal(response.json().type, 'https://switchyard.dev/problems/teapot');
    assert.equal(response.json().instance, '/teapot');
  });

  it('hides the cause of a 500 from the caller but names the request id', async () => {
    const { http } = await app();
    const response = await http.inject({ url: '/boom', headers: { 'x-request-id': 'req-9' } });
    assert.equal(response.statusCode, 500);
    assert.doesNotMatch(response.body, /hunter2/);
    assert.match(response.json().detail, /req-9/);
  });

  it('gives 400 with every offending field, 413 for a large body, 415 for a non-JSON one', async () => {
    const { http } = await app();
    const invalid = await http.inject({ method: 'POST', url: '/things', payload: { name: '', extra: true } });
    assert.equal(invalid.statusCode, 400);
    assert.deepEqual(invalid.json().errors, [
      { field: 'extra', in: 'body', reason: 'is not a known field' },
      { field: 'name', in: 'body', reason: 'must NOT have fewer than 1 characters' },
    ]);
    const large = await http.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(2000) } });
    assert.equal(large.statusCode, 413);
    const text = await http.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    assert.equal(text.statusCode, 415);
    const malformed = await http.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().type, 'https://switchyard.dev/problems/malformed-json');
  });

  it('refuses to register a route that declares no permission', async () => {
    const { http } = await app();
    assert.throws(() => http.get('/open', async () => 'hi'), /declares no permission/);
  });

  it('reports readiness failures with 503 and counts requests by route template', async () => {
    const { http, metrics } = await app();
    const ready = await http.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json().checks, { database: 'failing' });
    await http.inject({ method: 'POST', url: '/things', payload: { name: 'a' } });
    const text = await metrics.registry.metrics();
    assert.match(text, /http_requests_total\{method="POST",route="\/things",status="200"\} 1/);
    assert.match(
      text,
      /http_request_duration_seconds_bucket\{le="[\d.]+",method="POST",route="\/things",status="200"\}/,
    );
  });

  it('serves the OpenAPI document built from the route schemas', async () => {
    const { http } = await app();
    await http.ready();
    const document = (await http.inject({ url: '/openapi.json' })).json();
    assert.equal(document.openapi, '3.1.0');
    assert.ok(document.paths['/things'].post.requestBody);
    const ui = await http.inject({ url: '/docs/' });
    assert.equal(ui.statusCode, 200);
  });
});

describe('HTTP app shutdown', () => {
  it('finishes a request in flight when closed, and refuses new ones', async () => {
    const metrics = createMetrics();
    const http = await createHttpApp({
      logger: silentLogger(),
      metrics,
      bodyLimitBytes: 1024,
      title: 't',
      version: '0',
    });
    let arrived: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    http.get('/slow', { config: { permission: 'public' } }, async () => {
      arrived();
      await released;
      return { done: true };
    });
    const url = await http.listen({ port: 0, host: '127.0.0.1' });
    const inFlight = fetch(`${url}/slow`);
    await inHandler;
    const closed = http.close();
    release();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { done: true });
    await closed;
    await assert.rejects(fetch(`${url}/slow`));
  });
});
