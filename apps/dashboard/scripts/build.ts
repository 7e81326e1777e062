import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** The dashboard package's folder, and where `vite build` writes what the gateway serves. */
export const DASHBOARD_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DASHBOARD_DIST = join(DASHBOARD_ROOT, 'dist');
const STAMP = join(DASHBOARD_DIST, '.source-mtime');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json'];

function newestMtimeMs(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

function sourceMtimeMs(): number {
  return Math.max(...SOURCES.map((source) => newestMtimeMs(join(DASHBOARD_ROOT, source))));
}

function builtFrom(): number | undefined {
  try {
    return Number(readFileSync(STAMP, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * `.gz` and `.br` beside each text file, at the highest levels: the gateway serves them as they are
 * instead of compressing at every start (brotli's best level takes most of a second for the script).
 */
function precompress(directory: string): void {
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(js|css|html|svg|json|txt)$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const content = readFileSync(path);
    if (content.length <= 1024) continue;
    writeFileSync(`${path}.gz`, gzipSync(content, { level: 9 }));
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    );
  }
}

export interface BundleSize {
  file: string;
  bytes: number;
  gzipBytes: number;
}

/** What the first page loads: the scripts and styles index.html links, each raw and gzipped. */
export function firstPageBundle(): BundleSize[] {
  const html = readFileSync(join(DASHBOARD_DIST, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map(
    (match) => match[1] ?? '',
  );
  return files.map((file) => {
    const content = readFileSync(join(DASHBOARD_DIST, file));
    return { file, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
}

/**
 * Builds the dashboard into dist/ unless it was built from the sources as they are now; `npm install`
 * and `npm start` call this, so a checkout always serves what its sources say.
 */
export async function buildDashboard(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && builtFrom() === sourceMtimeMs()) return false;
  // Test files run in parallel processes and each asks for a current build: one builds, the others wait
  // for it and then find the build current.
  await acquireBuildLock();
  try {
    const sourcesAt = sourceMtimeMs();
    if (!options.force && builtFrom() === sourcesAt) return false;
    const { build } = await import('vite');
    await build({ root: DASHBOARD_ROOT, logLevel: options.quiet ? 'error' : 'warn' });
    precompress(DASHBOARD_DIST);
    writeFileSync(STAMP, String(sourcesAt));
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const LOCK = join(DASHBOARD_ROOT, '.build-lock');
/** A build takes seconds; a lock older than this was left by a killed process. */
const STALE_LOCK_MS = 120_000;

async function acquireBuildLock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const heldSinceMs = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs;
    if (heldSinceMs !== undefined && Date.now() - heldSinceMs > STALE_LOCK_MS) {
      rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildDashboard({ force: process.argv.includes('--force') });
  const sizes = firstPageBundle();
  const total = sizes.reduce((sum, size) => sum + size.gzipBytes, 0);
  if (built) {
    for (const size of sizes) {
      console.log(
        `dashboard ${size.file}: ${(size.bytes / 1024).toFixed(1)} KiB, ${(size.gzipBytes / 1024).toFixed(1)} KiB gzip`,
      );
    }
  }
  console.log(
    `dashboard ${built ? 'built' : 'up to date'}: first page ${(total / 1024).toFixed(1)} KiB gzip (aim < 300 KB)`,
  );
}
