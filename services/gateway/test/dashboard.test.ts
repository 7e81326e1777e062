import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync } from 'node:zlib';
import { gatewayApp } from './helpers.ts';

const INDEX = `<!doctype html><html><head><script type="module" src="/assets/app-1234.js"></script></head><body><div id="root"></div>${'<!-- padding -->'.repeat(100)}</body></html>`;
const PRECOMPRESSED = 'the build wrote this brotli file';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('gateway: the dashboard at /', () => {
  let build: string;
  before(() => {
    build = mkdtempSync(join(tmpdir(), 'switchyard-dashboard-'));
    mkdirSync(join(build, 'assets'));
    writeFileSync(join(build, 'index.html'), INDEX);
    writeFileSync(join(build, 'assets', 'app-1234.js'), SCRIPT);
    // The build's own brotli file is served as it is (here a recognisable one), never recompressed.
    writeFileSync(join(build, 'assets', 'app-1234.js.br'), brotliCompressSync(PRECOMPRESSED));
    writeFileSync(join(build, '.source-mtime'), '1');
  });
  after(() => rmSync(build, { recursive: true, force: true }));

  it('given a build, then / is index.html, never cached, with the document CSP', async () => {
    const gateway = await gatewayApp({ dashboardDir: build });
    try {
      const page = await gateway.app.inject({ url: '/' });
      assert.equal(page.statusCode, 200);
      assert.equal(page.body, INDEX);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.equal(page.headers['cache-control'], 'no-cache');
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    } finally {
      await gateway.close();
    }
  });

  it('given a hashed asset, then it is cached for a year and compressed as the client accepts', async () => {
    const gateway = await gatewayApp({ dashboardDir: build });
    try {
      const gzip = await gateway.app.inject({
        url: '/assets/app-1234.js',
        headers: { 'accept-encoding': 'gzip' },
      });
      assert.equal(gzip.statusCode, 200);
      assert.equal(gzip.headers['content-encoding'], 'gzip');
      assert.equal(gzip.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(gunzipSync(gzip.rawPayload).toString(), SCRIPT);
      const brotli = await gateway.app.inject({
        url: '/assets/app-1234.js',
        headers: { 'accept-encoding': 'gzip, deflate, br' },
      });
      assert.equal(brotli.headers['content-encoding'], 'br');
      assert.equal(brotliDecompressSync(brotli.rawPayload).toString(), PRECOMPRESSED);
      assert.equal((await gateway.app.inject({ url: '/assets/app-1234.js.br' })).statusCode, 404);
      const plain = await gateway.app.inject({ url: '/assets/app-1234.js' });
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.body, SCRIPT);
      assert.equal((await gateway.app.inject({ url: '/assets/missing.js' })).statusCode, 404);
      // The build stamp is not served.
      assert.equal((await gateway.app.inject({ url: '/.source-mtime' })).statusCode, 404);
    } finally {
      await gateway.close();
    }
  });

  it('given a page path, then a browser gets the app there; an API path or a non-browser gets a 404 problem', async () => {
    const gateway = await gatewayApp({ dashboardDir: build });
    try {
      const html = { accept: 'text/html,application/xhtml+xml' };
      const deepLink = await gateway.app.inject({ url: '/tasks/42?tab=history', headers: html });
      assert.equal(deepLink.statusCode, 200);
      assert.equal(deepLink.body, INDEX);
      for (const url of ['/api/v1/nothing', '/api', '/socket.io/x', '/events/nothing', '/docs/x']) {
        const refused = await gateway.app.inject({ url, headers: html });
        assert.equal(refused.statusCode, 404, url);
        assert.match(String(refused.headers['content-type']), /^application\/problem\+json/, url);
      }
      const script = await gateway.app.inject({ url: '/tasks/42', headers: { accept: 'application/json' } });
      assert.equal(script.statusCode, 404, 'a client that does not want HTML gets no page');
    } finally {
      await gateway.close();
    }
  });

  it('given the app files, then they never count against the anonymous quota; unknown paths still do', async () => {
    const gateway = await gatewayApp({
      dashboardDir: build,
      rateLimit: { anonymous: { max: 2, windowSeconds: 60 } },
    });
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal((await gateway.app.inject({ url: '/' })).statusCode, 200);
        assert.equal((await gateway.app.inject({ url: '/assets/app-1234.js' })).statusCode, 200);
      }
      const html = { accept: 'text/html' };
      assert.equal((await gateway.app.inject({ url: '/tasks', headers: html })).statusCode, 200);
      assert.equal((await gateway.app.inject({ url: '/tasks', headers: html })).statusCode, 200);
      assert.equal((await gateway.app.inject({ url: '/tasks', headers: html })).statusCode, 429);
    } finally {
      await gateway.close();
    }
  });

  it('given no build, then / says how to build it (503 problem) instead of an empty page', async () => {
    const missing = join(build, 'not-here');
    const gateway = await gatewayApp({ dashboardDir: missing });
    try {
      const page = await gateway.app.inject({ url: '/' });
      assert.equal(page.statusCode, 503);
      assert.equal(page.json().type, 'https://switchyard.dev/problems/dashboard-not-built');
      assert.match(page.json().detail, /npm run build/);
    } finally {
      await gateway.close();
    }
  });
});
