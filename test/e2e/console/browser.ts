/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core for the console tests,
 * plus the console build check and the screenshot folder (test-output/screenshots, git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../helpers/paths.js';

export const CHROMIUM = process.env['EDGEVOX_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newestMtime(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** Build the console front end when dist/console is missing or older than its sources (under a lock). */
export async function ensureConsoleBuilt(): Promise<void> {
  const out = join(REPO_ROOT, 'dist', 'console', 'index.html');
  const src = join(REPO_ROOT, 'web', 'console');
  const lock = join(REPO_ROOT, 'dist', '.console-build-lock');
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!existsSync(out) || statSync(out).mtimeMs < newestMtime(src)) {
      execFileSync(process.execPath, [join(src, 'build.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Save a full-page screenshot as test-output/screenshots/<name>.png. */
  shot: (name: string, page?: Page) => Promise<void>;
  close: () => Promise<void>;
}

/**
 * A fresh browser with an empty profile; downloads are accepted. `locale` sets the browser's
 * language (navigator.languages, Accept-Language), as a user's browser would; default English.
 */
export async function openBrowser(
  options: { ignoreHTTPSErrors?: boolean; locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (make setup)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'evx-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    acceptDownloads: true,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    locale: options.locale ?? 'en-US',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    shot: async (name, p = page) => {
      await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Sign in on the console at `baseUrl` and wait for the signed-in header. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByTestId('login').waitFor();
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('who').waitFor();
}
