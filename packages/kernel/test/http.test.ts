import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import {
  createForegroundGate,
  createHttpApp,
  createMetrics,
  HttpProblem,
  registerOperationalRoutes,
} from '@switchyard/kernel';
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

describe('HTTP app and the foreground gate', () => {
  it('counts a request from its start until it is answered or abandoned, and not a stream', async () => {
    const gate = createForegroundGate({ busyAt: 1, averageOverMs: 100, maxDeferMs: 1000, recheckMs: 10 });
    const left = new EventEmitter();
    const http = await createHttpApp({
      logger: silentLogger(),
      metrics: createMetrics(),
      bodyLimitBytes: 1024,
      title: 't',
      version: '0',
      foreground: {
        enter: () => gate.enter(),
        leave: () => {
          gate.leave();
          left.emit('leave');
        },
      },
    });
    const handlers: { arrived: Promise<void>; release: () => void }[] = [];
    const nextHandler = () => {
      let arrive = () => {};
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const arrived = new Promise<void>((resolve) => {
        arrive = resolve;
      });
      handlers.push({ arrived, release });
      return { arrive, released };
    };
    let pending = nextHandler();
    let openStream: ServerResponse | undefined;
    http.get('/slow', { config: { permission: 'public' } }, async () => {
      const mine = pending;
      pending = nextHandler();
      mine.arrive();
      await mine.released;
      return { done: true };
    });
    http.get('/events', { config: { permission: 'public', stream: true } }, async (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
      reply.raw.write(': connected\n\n');
      openStream = reply.raw;
    });
    const url = await http.listen({ port: 0, host: '127.0.0.1' });
    try {
      const answered = fetch(`${url}/slow`);
      await handlers[0]?.arrived;
      assert.equal(gate.inFlight, 1);
      let leaving = once(left, 'leave');
      handlers[0]?.release();
      assert.equal((await answered).status, 200);
      await leaving;
      assert.equal(gate.inFlight, 0, 'answered');

      const aborter = new AbortController();
      const abandoned = fetch(`${url}/slow`, { signal: aborter.signal }).catch(() => 'aborted');
      await handlers[1]?.arrived;
      assert.equal(gate.inFlight, 1);
      leaving = once(left, 'leave');
      aborter.abort();
      assert.equal(await abandoned, 'aborted');
      await leaving;
      assert.equal(gate.inFlight, 0, 'abandoned while its handler still works');
      handlers[1]?.release();

      const stream = await fetch(`${url}/events`);
      assert.equal(stream.status, 200);
      assert.equal(gate.inFlight, 0, 'an open event stream is not a request in flight');
      openStream?.end();
      assert.equal(await stream.text(), ': connected\n\n');
    } finally {
      // The aborted request's handler still answers into its closed socket; do not wait for keep-alive.
      http.server.closeAllConnections();
      await http.close();
    }
  });
});
