import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { type HttpApp, problemOf } from '@switchyard/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './http.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False for routes that answer from memory (the dashboard's files): they never count against a quota. */
    rateLimited?: boolean;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/** Paths the single-page app never owns: an unknown one of these is a 404 problem, not the app. */
const API_PREFIXES = ['/api', '/socket.io', '/events', '/.well-known', '/docs', '/openapi.json'];

interface StaticFile {
  contentType: string;
  raw: Buffer;
  gzip?: Buffer;
  brotli?: Buffer;
}

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/**
 * A file and its compressed forms: the `.gz` and `.br` the dashboard build writes beside it (at the
 * highest levels, which take most of a second for the app's script), or, for a build without them, quick
 * levels here, so a start never spends that second.
 */
async function loadFile(path: string): Promise<StaticFile> {
  const raw = await readFile(path);
  const extension = extname(path);
  const file: StaticFile = { contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream', raw };
  if (COMPRESSIBLE.has(extension) && raw.length > 1024) {
    file.gzip = (await readIfPresent(`${path}.gz`)) ?? gzipSync(raw, { level: 6 });
    file.brotli =
      (await readIfPresent(`${path}.br`)) ??
      brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
  }
  return file;
}

/** Every file of the build, read and compressed once at start: the app is small and never changes while running. */
async function loadBuild(directory: string): Promise<Map<string, StaticFile> | undefined> {
  let names: string[];
  try {
    names = (await readdir(directory, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.startsWith('.') && !/\.(gz|br)$/.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name).slice(directory.length).replaceAll('\\', '/'));
  } catch {
    return undefined;
  }
  if (!names.includes('/index.html')) return undefined;
  const files = new Map<string, StaticFile>();
  for (const name of names) files.set(name, await loadFile(join(directory, name)));
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string) {
  reply
    .header('content-type', file.contentType)
    .header('cache-control', cacheControl)
    .header('vary', 'accept-encoding');
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (file.brotli && /\bbr\b/.test(accepted)) return reply.header('content-encoding', 'br').send(file.brotli);
  if (file.gzip && /\bgzip\b/.test(accepted)) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.raw);
}

function isApiPath(path: string): boolean {
  return API_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/**
 * The dashboard at `/`: the built files of apps/dashboard (hashed names under /assets, cached for a year)
 * and index.html for every other page path, so a reload of /tasks/… opens the app there.
 */
export async function registerDashboardRoutes(app: HttpApp, directory: string | undefined): Promise<void> {
  const files = directory ? await loadBuild(directory) : undefined;
  const config = { permission: 'public', rateLimited: false };
  const hide = { hide: true };

  const page = (request: FastifyRequest, reply: FastifyReply) => {
    const index = files?.get('/index.html');
    if (!index) {
      return sendProblem(
        reply,
        problemOf(
          503,
          'dashboard-not-built',
          'Service Unavailable',
          'The dashboard is not built: run `npm run build` (npm install and npm start do it), then restart',
        ),
      );
    }
    // Never cached: a new build must reach browsers that had the old one.
    return send(request, reply, index, 'no-cache');
  };

  app.get('/', { schema: hide, config }, page);
  app.get('/assets/*', { schema: hide, config }, async (request, reply) => {
    const file = files?.get(request.url.split('?')[0] ?? '');
    if (!file) return sendProblem(reply, problemOf(404, 'not-found', 'Not Found', `No file ${request.url}`));
    return send(request, reply, file, 'public, max-age=31536000, immutable');
  });
  // Unknown paths land here too, so they count against the caller's quota like any other request.
  app.get('/*', { schema: hide, config: { permission: 'public' } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const file = files?.get(path);
    if (file && path !== '/index.html') return send(request, reply, file, 'public, max-age=3600');
    const wantsPage = /\btext\/html\b/.test(String(request.headers.accept ?? ''));
    if (isApiPath(path) || !wantsPage) {
      return sendProblem(reply, problemOf(404, 'not-found', 'Not Found', `No route GET ${path}`));
    }
    return page(request, reply);
  });
}
