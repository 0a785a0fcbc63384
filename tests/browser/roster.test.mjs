// 名册查询 (issue 13 item 5): the roster page in a real Chromium — the form, the demo's
// enrolments as a table that becomes cards at 390 × 844 and stays within the window at 1280,
// and 下一页 to the next keyset page.
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

test('issue13_the_roster_fits_a_phone_and_a_desk_and_pages', async () => {
  for (const [viewport, name] of [[{ width: 390, height: 844 }, 'phone'], [{ width: 1280, height: 900 }, 'desk']]) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await login(page, server.base, 'minzheng');
    await page.goto(`${server.base}/roster`);
    await assertFits(page, `${name} roster form`);
    await page.selectOption('select[name=category]', 'dibao');
    await page.fill('input[name=date]', '2026-01-01');
    await clickAndLoad(page, '#roster-form button[type=submit]');
    const total = Number(await page.textContent('#roster-total'));
    assert.ok(total > 50, `the demo's 低保 roster has more than a page (${total})`);
    assert.equal(await page.locator('#roster tbody tr').count(), 50);
    await assertFits(page, `${name} roster`);
    if (name === 'phone') {
      assert.ok(await page.locator('main table.cards td[data-label]').count() > 0, 'the rows are cards');
    }
    await page.screenshot({ path: join(screenshots, `${name}-roster.png`), fullPage: true });
    await clickAndLoad(page, '#next-page');
    assert.ok(await page.locator('#roster tbody tr').count() >= 1);
    assert.equal(Number(await page.textContent('#roster-total')), total);
    await assertFits(page, `${name} roster page 2`);
    await context.close();
  }
});
