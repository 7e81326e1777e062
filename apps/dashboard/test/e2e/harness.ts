import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { type RunningSwitchyard, type StartOptions, startSwitchyard } from '@switchyard/server';
import { TEST_ADMIN, testConfig } from '@switchyard/server/test-helpers';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildDashboard } from '../../scripts/build.ts';

export { TEST_ADMIN };

/** Debian's Chromium (`apt-get install chromium`); SWITCHYARD_CHROMIUM points elsewhere. */
const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../test-results/', import.meta.url);

export interface DashboardRig {
  server: RunningSwitchyard;
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

/**
 * A real server on a fresh database and loopback port, serving the dashboard as built from the current
 * sources, and a headless Chromium. Fails (never skips) when Chromium is missing.
 */
export async function startRig(
  label: string,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<DashboardRig> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (or set SWITCHYARD_CHROMIUM)`,
    );
  }
  await buildDashboard({ quiet: true });
  const database: TestDatabase = await createTestDatabase(label);
  const server = await startSwitchyard(testConfig(database.url, env), silentLogger(), options);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without these, Chromium reaches for Google's services, which this network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    server,
    browser,
    url: server.url,
    async close() {
      await browser.close();
      await server.close();
      await database.drop();
    },
  };
}

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions the page produced; tests assert there are none. */
  errors: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openPage(
  rig: DashboardRig,
  options: { width?: number; height?: number } = {},
): Promise<TestPage> {
  const context = await rig.browser.newContext({
    baseURL: rig.url,
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    page,
    context,
    errors,
    async screenshot(name) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
    },
    async close() {
      await context.close();
    },
  };
}

/** Signs in through the form, as a person would, and waits for the app's navigation. */
export async function signInThroughForm(
  page: Page,
  credentials: { email: string; password: string } = TEST_ADMIN,
): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Email').fill(credentials.email);
  await page.getByLabel('Password').fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The top bar shows on every screen size (the navigation folds into a menu on a phone).
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Drops the browser's report of the 4xx answers a test caused on purpose (exactly `expected`), and only those. */
export function forgiveOwnRefusals(tab: TestPage, status: number, expected: number): void {
  const own = tab.errors.filter(
    (error) => error.includes('Failed to load resource') && error.includes(`status of ${status}`),
  );
  assert.equal(own.length, expected, `expected ${expected} refused request(s): ${tab.errors.join('\n')}`);
  tab.errors.splice(0, tab.errors.length, ...tab.errors.filter((error) => !own.includes(error)));
}

export function assertNoConsoleErrors(testPage: TestPage): void {
  assert.deepEqual(testPage.errors, [], 'the page logged no errors');
}
