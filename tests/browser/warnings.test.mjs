// The warning loop in a real browser (issue 5): the demo's warnings at their steps, a town
// reviewer judging one on its page, and the department's feeds page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

test('w3_town_reviewer_sees_the_loop_and_judges_a_verified_warning', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await clickAndLoad(page, 'header nav a:text("预警")');
  const states = await page.locator('#warnings tbody tr td:nth-child(7)').allTextContents();
  for (const state of ['待分派', '待核实', '待研判', '待处置', '已办结']) {
    assert.ok(states.some((text) => text.includes(state)), `${state} in ${states}`);
  }
  await page.selectOption('select[name=state]', 'verified');
  await clickAndLoad(page, 'form.search button');
  await clickAndLoad(page, page.locator('#warnings tbody tr td a').first());
  assert.equal((await page.textContent('#state')).trim(), '待研判');
  await page.screenshot({ path: join(screenshots, 'warning.png'), fullPage: true });
  await clickAndLoad(page, '#judge button[type=submit]');
  assert.match(await page.textContent('#error'), /研判意见/);
  await page.fill('#judge textarea[name=note]', '核实属实，需启动核查');
  await clickAndLoad(page, '#judge button[type=submit]');
  assert.equal((await page.textContent('#state')).trim(), '待处置');
  assert.ok((await page.locator('#history tbody tr').count()) >= 3);
  await page.close();
});

test('w2_department_sees_feeds_with_rejected_rows', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bumen');
  await page.goto(`${server.base}/feeds`);
  assert.ok(await page.isVisible('#upload'));
  const cells = await page.locator('#feeds tbody tr').first().locator('td').allTextContents();
  assert.ok(cells.some((text) => text.includes('区公安分局')), `${cells}`);
  assert.ok(cells.some((text) => text.includes('已完成')), `${cells}`);
  await page.screenshot({ path: join(screenshots, 'feeds.png'), fullPage: true });
  await page.close();
});
