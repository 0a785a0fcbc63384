// Starts `safetynet serve --demo` on a fresh SQLite file and a free port, and a headless
// Chromium (Debian's package) driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const screenshots = join(here, 'screenshots');
mkdirSync(screenshots, { recursive: true });

export const DEMO_PASSWORD = 'demo-2025';

export async function startServer() {
  const bin = process.env.SAFETYNET_BIN ?? join(here, '..', '..', 'target', 'debug', 'safetynet');
  const dir = mkdtempSync(join(tmpdir(), 'safetynet-browser-'));
  const child = spawn(bin, ['serve', '--demo', '--db', `sqlite://${join(dir, 'demo.db')}`, '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  const base = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${seen}`)), 120_000);
    child.stderr.on('data', (chunk) => {
      seen += chunk.toString();
      const match = seen.match(/http:\/\/(127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${seen}`)));
  });
  // The demo database goes with its server.
  const stop = () => {
    child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    child.kill('SIGTERM');
  };
  return { base, stop };
}

export async function startBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// The demo server and the browser a test file shares, and their end.
export async function startAll() {
  return { server: await startServer(), browser: await startBrowser() };
}

export async function stopAll({ server, browser }) {
  await browser?.close();
  server?.stop();
}

export async function login(page, base, username, password = DEMO_PASSWORD) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await clickAndLoad(page, 'button[type=submit]');
}

// Clicks what navigates (a selector or a locator: a link, a form's button) and waits for the new document — the one the
// answer commits, after any redirect — to load; waiting on the current page's load state alone
// would return at once, before the answer (and its cookies) arrived.
export async function clickAndLoad(page, target) {
  await Promise.all([
    page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame()),
    typeof target === 'string' ? page.click(target) : target.click(),
  ]);
  await page.waitForLoadState('load');
}
