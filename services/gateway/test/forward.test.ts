import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  bearer,
  gatewayApp,
  metricValue,
  startBrokenUpstream,
  startUpstream,
  type Upstream,
} from './helpers.ts';

const PREFIX = '/api/v1/tasks';
const started: Upstream[] = [];
after(async () => {
  await Promise.all(started.map((upstream) => upstream.close()));
});

async function upstream(...args: Parameters<typeof startUpstream>): Promise<Upstream> {
  const server = await startUpstream(...args);
  started.push(server);
  return server;
}

async function broken(): Promise<Upstream> {
  const server = await startBrokenUpstream();
  started.push(server);
  return server;
}

/** A GET whose path is sent exactly as written (fetch and inject() would normalise it). */
function rawGet(url: string): Promise<{ status: number; contentType: string }> {
  const { origin } = new URL(url);
  const path = url.slice(origin.length);
  return new Promise((resolve, reject) => {
    const request = http.request(`${origin}/`, { path }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type']) });
    });
    request.on('error', reject);
    request.end();
  });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return (_request: unknown, response: http.ServerResponse) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
}

describe('gateway forwarding', () => {
  it('given a healthy upstream, then status, end-to-end headers and the exact body bytes pass both ways', async () => {
    const compressed = gzipSync(Buffer.from('{"id":"t1",  "title":"spaced"}'));
    const tasks = await upstream((_request, response) => {
      response.writeHead(201, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        location: '/api/v1/tasks/t1',
        'x-next-cursor': 'c2',
        vary: 'Accept-Encoding',
        'x-powered-by': 'Express',
        'content-security-policy': 'default-src *',
        connection: 'x-internal-hop',
        'x-internal-hop': 'secret',
      });
      response.end(compressed);
    });
    const gateway = await gatewayApp({
      upstreams: [{ prefix: PREFIX, urls: [tasks.url] }],
      corsOrigins: ['https://app.example.com'],
    });
    try {
      const body = '{"title":  "spaced",\n "n": 1.50}';
      const response = await gateway.app.inject({
        method: 'POST',
        url: `${PREFIX}?notify=true&tag=a%20b`,
        headers: {
          ...bearer('token-alice'),
          'content-type': 'application/json',
          'idempotency-key': 'idem-1',
          'x-request-id': 'req-42',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'proxy-authorization': 'Basic c2VjcmV0',
          origin: 'https://app.example.com',
        },
        payload: body,
      });

      assert.equal(response.statusCode, 201);
      assert.deepEqual(response.rawPayload, compressed, 'the body is passed as sent, not decoded');
      assert.equal(response.headers['content-encoding'], 'gzip');
      assert.equal(response.headers.location, '/api/v1/tasks/t1');
      assert.equal(response.headers['x-next-cursor'], 'c2');
      assert.equal(response.headers['x-request-id'], 'req-42');
      assert.equal(response.headers.vary, 'Origin, Accept-Encoding');
      assert.equal(response.headers['x-powered-by'], undefined);
      assert.equal(response.headers['x-internal-hop'], undefined);
      assert.equal(response.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
      assert.equal(response.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(
        response.headers['ratelimit-limit'],
        '1000',
        "the caller's budget applies to forwarded calls",
      );

      const [received] = tasks.received;
      assert.ok(received);
      assert.equal(received.method, 'POST');
      assert.equal(received.url, `${PREFIX}?notify=true&tag=a%20b`);
      assert.equal(received.body.toString(), body, 'the JSON body is not re-serialised');
      assert.equal(
        received.headers.authorization,
        'Bearer token-alice',
        'the upstream authenticates the caller itself',
      );
      assert.equal(received.headers['idempotency-key'], 'idem-1');
      assert.equal(received.headers['x-request-id'], 'req-42');
      assert.equal(received.headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      assert.equal(received.headers['content-type'], 'application/json');
      assert.equal(received.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(received.headers['x-forwarded-proto'], 'http');
      assert.equal(received.headers['x-forwarded-host'], 'localhost:80');
      assert.equal(
        received.headers['proxy-authorization'],
        undefined,
        'hop-by-hop credentials stay at the gateway',
      );
    } finally {
      await gateway.close();
    }
  });

  it('given a non-JSON body, a bare prefix and a HEAD request, then they reach the upstream untouched', async () => {
    const tasks = await upstream((request, response) => {
      response.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': '5',
        'x-method': request.method,
      });
      response.end(request.method === 'HEAD' ? undefined : 'hello');
    });
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [tasks.url] }] });
    try {
      const text = await gateway.app.inject({
        method: 'PUT',
        url: `${PREFIX}/t1/notes`,
        headers: { 'content-type': 'text/csv' },
        payload: 'a,b\n1,2\n',
      });
      assert.equal(text.statusCode, 200, 'a local route would answer 415; the upstream decides here');
      assert.equal(tasks.received[0]?.body.toString(), 'a,b\n1,2\n');
      assert.equal(tasks.received[0]?.headers['content-type'], 'text/csv');

      const head = await gateway.app.inject({ method: 'HEAD', url: PREFIX });
      assert.equal(head.statusCode, 200);
      assert.equal(head.headers['x-method'], 'HEAD');
      assert.equal(head.headers['content-length'], '5');
      assert.equal(head.body, '');
    } finally {
      await gateway.close();
    }
  });

  it('given a path with .. segments or a body over the limit, then 400 / 413 and nothing is forwarded', async () => {
    const tasks = await upstream(json(200, {}));
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [tasks.url] }] });
    try {
      // Over a real socket: inject() would resolve the dots before the gateway saw them.
      const address = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
      for (const path of [`${PREFIX}/%2e%2e/%2e%2e/admin`, `${PREFIX}/../users`, `${PREFIX}/x/..`]) {
        const traversal = await rawGet(`${address}${path}`);
        assert.equal(traversal.status, 400, path);
        assert.match(traversal.contentType, /^application\/problem\+json/);
      }
      const large = await gateway.app.inject({
        method: 'POST',
        url: PREFIX,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ title: 'x'.repeat(2000) }),
      });
      assert.equal(large.statusCode, 413);
      assert.equal(tasks.received.length, 0);
    } finally {
      await gateway.close();
    }
  });

  it('given an upstream slower than the timeout, then 504 problem+json and no retry on the next URL', async () => {
    const slow = await upstream(() => {});
    const fast = await upstream(json(200, { ok: true }));
    const gateway = await gatewayApp({
      upstreams: [{ prefix: PREFIX, urls: [slow.url, fast.url] }],
      upstreamTimeoutMs: 150,
    });
    try {
      const response = await gateway.app.inject({ url: `${PREFIX}/t1` });
      assert.equal(response.statusCode, 504);
      assert.equal(response.json().type, 'https://switchyard.dev/problems/upstream-timeout');
      assert.equal(slow.received.length, 1);
      assert.equal(fast.received.length, 0);
    } finally {
      await gateway.close();
    }
  });

  it('given the first instance down, then a GET is retried on the next one and succeeds', async () => {
    const down = await broken();
    const up = await upstream(json(200, { ok: true }));
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [down.url, up.url] }] });
    try {
      const response = await gateway.app.inject({ url: `${PREFIX}/t1`, headers: bearer('token-alice') });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { ok: true });
      assert.equal(down.connections, 1);
      assert.equal(up.received.length, 1);
    } finally {
      await gateway.close();
    }
  });

  it('given the first instance down, then a POST is not retried: 503 with Retry-After, the next instance never sees it', async () => {
    const down = await broken();
    const up = await upstream(json(201, { ok: true }));
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [down.url, up.url] }] });
    try {
      const response = await gateway.app.inject({
        method: 'POST',
        url: PREFIX,
        headers: { 'content-type': 'application/json' },
        payload: '{"title":"once"}',
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().type, 'https://switchyard.dev/problems/upstream-unavailable');
      assert.equal(response.headers['retry-after'], '1');
      assert.equal(down.connections, 1);
      assert.equal(up.received.length, 0);
    } finally {
      await gateway.close();
    }
  });

  it('given every instance down, then a GET is tried at most 3 times (2 retries), round robin, then 503', async () => {
    const first = await broken();
    const second = await broken();
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [first.url, second.url] }] });
    try {
      const response = await gateway.app.inject({ url: PREFIX });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '1');
      assert.deepEqual([first.connections, second.connections], [2, 1]);
    } finally {
      await gateway.close();
    }
  });

  it('given an upstream answering 503 to every retry, then its last answer is passed through', async () => {
    const overloaded = await upstream(json(503, { busy: true }, { 'retry-after': '7' }));
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [overloaded.url] }] });
    try {
      const response = await gateway.app.inject({ method: 'DELETE', url: `${PREFIX}/t1` });
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), { busy: true });
      assert.equal(response.headers['retry-after'], '7');
      assert.equal(overloaded.received.length, 3);
    } finally {
      await gateway.close();
    }
  });

  it('given 5 failures, then the breaker opens: 503 with Retry-After without calling the upstream; half-open after 30 s; closed after 2 successes', async () => {
    let healthy = false;
    const flaky = await upstream((_request, response) => {
      response.writeHead(healthy ? 200 : 502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ healthy }));
    });
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [flaky.url] }] });
    const state = () => metricValue(gateway.metrics, 'circuit_breaker_state', { target: flaky.url });
    const post = () =>
      gateway.app.inject({
        method: 'POST',
        url: PREFIX,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
    try {
      assert.equal(await state(), 0);
      for (let i = 0; i < 5; i++)
        assert.equal((await post()).statusCode, 502, 'the upstream answer is passed on');
      assert.equal(flaky.received.length, 5);
      assert.equal(await state(), 2, 'open');

      gateway.advance(10_000);
      const refused = await post();
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.json().type, 'https://switchyard.dev/problems/upstream-unavailable');
      assert.equal(refused.headers['retry-after'], '20');
      assert.equal(flaky.received.length, 5, 'an open circuit does not call the upstream');

      gateway.advance(20_000);
      assert.equal(await state(), 1, 'half-open once the open period has passed, seen at scrape time');
      healthy = true;
      assert.equal((await post()).statusCode, 200);
      assert.equal(await state(), 1, 'one success is not enough');
      assert.equal((await post()).statusCode, 200);
      assert.equal(await state(), 0, 'closed after 2 successes');
      assert.equal(flaky.received.length, 7);
    } finally {
      await gateway.close();
    }
  });

  it('given a half-open breaker whose trial fails, then it opens again for the full 30 s', async () => {
    const down = await broken();
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [down.url] }] });
    try {
      for (let i = 0; i < 5; i++) await gateway.app.inject({ method: 'PATCH', url: `${PREFIX}/t1` });
      assert.equal(down.connections, 5);
      gateway.advance(30_000);
      const trial = await gateway.app.inject({ method: 'PATCH', url: `${PREFIX}/t1` });
      assert.equal(trial.statusCode, 503);
      assert.equal(down.connections, 6, 'exactly one trial went out');
      const after = await gateway.app.inject({ method: 'PATCH', url: `${PREFIX}/t1` });
      assert.equal(after.headers['retry-after'], '30');
      assert.equal(down.connections, 6);
    } finally {
      await gateway.close();
    }
  });

  it('given one instance open and another healthy, then GETs skip the open one without spending a retry', async () => {
    const down = await broken();
    const up = await upstream(json(200, { ok: true }));
    const gateway = await gatewayApp({ upstreams: [{ prefix: PREFIX, urls: [down.url, up.url] }] });
    try {
      // Round robin starts every other request on the broken instance: 9 requests, 5 failures.
      for (let i = 0; i < 9; i++) assert.equal((await gateway.app.inject({ url: PREFIX })).statusCode, 200);
      assert.equal(down.connections, 5);
      assert.equal(await metricValue(gateway.metrics, 'circuit_breaker_state', { target: down.url }), 2);
      for (let i = 0; i < 4; i++) assert.equal((await gateway.app.inject({ url: PREFIX })).statusCode, 200);
      assert.equal(down.connections, 5, 'the open instance is passed over');
      assert.equal(up.received.length, 13);
    } finally {
      await gateway.close();
    }
  });
});
