// 审计日志 (issue 15 item 7): the demo's auditor reads the audit log in a real Chromium: at
// 390 × 844 the table is cards and the page is never wider than the screen; at 1280 it is a
// table. A filter by 操作类型 keeps its choice; a check of the chain shows its result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

async function assertFits(page, what) {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

test('i15_audit_log_fits_a_phone_and_a_desk', async () => {
  for (const [viewport, name] of [[{ width: 390, height: 844 }, 'phone'], [{ width: 1280, height: 900 }, 'desk']]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await login(page, server.base, 'shenji');
    await clickAndLoad(page, 'nav a[href="/audit"]');
    assert.equal(new URL(page.url()).pathname, '/audit');
    assert.ok(await page.locator('#audit-log tbody tr').count() >= 2, 'the demo wrote audit rows');
    assert.doesNotMatch(await page.textContent('#audit-log'), /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    await assertFits(page, `${name} audit log`);
    if (name === 'phone') {
      assert.ok(await page.locator('#audit-log td[data-label="操作类型"]').count() > 0);
      const display = await page.$eval('#audit-log thead', (head) => getComputedStyle(head).display);
      assert.equal(display, 'none', 'the table is cards on a phone');
    }
    await page.screenshot({ path: join(screenshots, `audit-log-${name}.png`), fullPage: true });
    await page.selectOption('select[name="action"]', 'session.login');
    await clickAndLoad(page, '#filters button[type="submit"]');
    assert.equal(await page.$eval('select[name="action"]', (select) => select.value), 'session.login');
    const kinds = await page.$$eval('#audit-log td[data-label="操作类型"]', (cells) => cells.map((cell) => cell.textContent.trim()));
    assert.ok(kinds.length >= 1 && kinds.every((kind) => kind === '登录'), `only sign-ins: ${kinds}`);
    await assertFits(page, `${name} filtered audit log`);
    await context.close();
  }
});

test('i15_audit_check_shows_its_result', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await login(page, server.base, 'shenji');
  await page.goto(`${server.base}/audit`);
  await clickAndLoad(page, '#check button[type="submit"]');
  assert.ok(await page.locator('#notice').count() === 1);
  for (let i = 0; i < 50 && (await page.locator('#check-result').count()) === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await page.goto(`${server.base}/audit`);
  }
  assert.match(await page.textContent('#check-result'), /完整/);
  await assertFits(page, 'audit log after a check');
  await context.close();
});
