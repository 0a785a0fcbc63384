// 工作日历 in a real browser (issue 14 item 5): district civil affairs finds the year not entered
// (法定假日推算·待确认) from the 政策参数 page, enters its arrangement with the form, and sees it
// 已录入 with its 文号; a bad line is refused in Chinese with the input kept; the page fits a
// 390 px phone and a 1280 px window; a town reviewer reads it without the form.
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

test('calendar_page_enters_a_missing_year_and_fits_phone_and_desk', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await login(page, server.base, 'minzheng');
  await page.goto(`${server.base}/policy`);
  await clickAndLoad(page, page.locator('#golive a[href="/policy/calendar"]'));
  assert.equal(new URL(page.url()).pathname, '/policy/calendar');
  await assertFits(page, 'calendar at 390');
  const year = await page.locator('#cal-year').inputValue();
  assert.match(year, /^\d{4}$/, 'the form offers the year not entered');
  const section = page.locator(`#y-${year}`);
  assert.match(await section.locator('h2').textContent(), /法定假日推算·待确认/);
  assert.match(await section.textContent(), /春节/);
  await page.screenshot({ path: join(screenshots, 'calendar-phone.png'), fullPage: true });

  // A line without its dates is refused naming the line, the input kept.
  await page.fill('#cal-source', '国办发明电〔测试〕1号');
  await page.fill('#cal-holidays', `元旦 ${year}-01-01`);
  await clickAndLoad(page, page.locator('#add-year button', { hasText: '录入' }));
  assert.match(await page.locator('#add-year .errors').textContent(), /节假日第1行/);
  assert.equal(await page.locator('#cal-holidays').inputValue(), `元旦 ${year}-01-01`);
  await assertFits(page, 'refused form at 390');

  await page.fill('#cal-holidays', `元旦 ${year}-01-01 ${year}-01-01\n国庆节 ${year}-10-01 ${year}-10-07`);
  await clickAndLoad(page, page.locator('#add-year button', { hasText: '录入' }));
  const entered = page.locator(`#y-${year}`);
  assert.match(await entered.locator('h2').textContent(), /已录入/);
  assert.match(await entered.textContent(), /国办发明电〔测试〕1号/);
  assert.match(await entered.textContent(), /平台录入：/);
  await page.setViewportSize({ width: 1280, height: 900 });
  await assertFits(page, 'calendar at 1280');
  await page.screenshot({ path: join(screenshots, 'calendar.png'), fullPage: false });
  await context.close();
});

test('calendar_page_is_read_only_for_a_town_reviewer', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/policy/calendar`);
  assert.match(await page.textContent('h1'), /工作日历/);
  assert.equal(await page.locator('#add-year').count(), 0, 'no form to enter a year');
  await page.close();
});
