// 公开 (issue 14 item 1) and the printouts' signature blocks and supervision telephone
// (issue 15 item 9), in a real Chromium on `serve --demo`: the public list of 永院村 and of its
// town fits a 390 px phone without signing in, shows the demo's confirmed households masked and
// the supervision telephone; the board sheet keeps its last row, the telephone and the seal in
// one block that does not break across pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

const PHONE = { width: 390, height: 844 };
const YONGYUAN = '500151001200';
const BACHUAN = '500151001';

async function assertFits(page, what) {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

test('i14_the_public_list_of_a_village_and_its_town_fits_a_phone', async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  for (const area of [YONGYUAN, BACHUAN]) {
    const response = await page.goto(`${server.base}/public/${area}`);
    assert.equal(response.status(), 200, `no sign-in for /public/${area}`);
    assert.match(await page.textContent('h1'), /巴川街道.*公开名单/);
    const rows = page.locator('#disclosure-list tbody tr');
    assert.ok((await rows.count()) >= 1, `the demo's confirmed households are listed on /public/${area}`);
    const text = await page.textContent('main');
    assert.doesNotMatch(text, /\d{17}[\dXx]/, 'no ID number');
    assert.ok(!/残疾|疾病|银行|账号/.test(text.replace('残疾和银行账户等信息', '')), 'no health or bank data');
    for (const name of await page.locator('#disclosure-list tbody tr td[data-label="姓名"]').allTextContents()) {
      assert.match(name.trim(), /^.\*+.?$/, `names are masked: ${name}`);
    }
    assert.match(await page.textContent('#supervision-phone'), /\d/, 'the supervision telephone');
    await assertFits(page, `/public/${area}`);
    await page.screenshot({ path: join(screenshots, `phone-public-${area}.png`), fullPage: true });
  }
  // The list as in force on a day before the demo's enrolment is empty.
  await page.fill('#date', '2020-01-01');
  await Promise.all([page.waitForNavigation(), page.click('#disclosure-date button')]);
  assert.equal(await page.locator('#disclosure-empty').count(), 1, 'nobody was enrolled in 2020');
  await assertFits(page, 'an earlier day');
  await context.close();
});

test('i15_the_board_sheet_keeps_its_last_row_with_the_seal_and_shows_the_telephone', async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await login(page, server.base, 'cunshe');
  await page.goto(`${server.base}/disclosure`);
  await assertFits(page, '/disclosure');
  assert.ok((await page.locator('#publications tbody tr').count()) >= 1, 'the village has a publication');
  await page.goto(`${server.base}/villages/${YONGYUAN}/print/disclosure`);
  const block = page.locator('#disclosure-sign-block');
  assert.equal(await block.count(), 1);
  assert.equal(await block.evaluate((el) => getComputedStyle(el).breakInside), 'avoid');
  assert.equal(await block.locator('table.tail tbody tr').count(), 1, 'the last row travels with the seal');
  assert.match(await block.textContent(), /监督电话/);
  assert.match(await block.locator('.seal').textContent(), /盖章/);
  assert.doesNotMatch(await page.textContent('article.sheet'), /\d{17}[\dXx]/);
  // The village notice: the rights of review and the telephone in its signature block.
  await page.goto(`${server.base}/villages/${YONGYUAN}/print/notice`);
  const notice = page.locator('#village-notice-sign-block');
  assert.equal(await notice.evaluate((el) => getComputedStyle(el).breakInside), 'avoid');
  assert.match(await notice.textContent(), /监督电话/);
  await context.close();
});
