// Phone-first (issue 15): the pages a grid worker, a village assistant and an applicant use,
// in a real Chromium at 390 × 844, are never wider than the screen (tables become cards), and
// stay within the window at 1280 wide.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

const PHONE = { width: 390, height: 844 };
const DESK = { width: 1280, height: 900 };

async function assertFits(page, what) {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

async function phonePage(viewport = PHONE) {
  const context = await browser.newContext({ viewport });
  return context.newPage();
}

// The first link in main whose path matches `pattern`.
async function firstLink(page, pattern) {
  const hrefs = await page.$$eval('main a', (links) => links.map((link) => link.getAttribute('href')));
  return hrefs.find((href) => href && pattern.test(href));
}

for (const [user, label] of [['wangge', 'grid'], ['cunshe', 'village']]) {
  test(`i15_${label}_pages_fit_a_phone`, async () => {
    const page = await phonePage();
    await login(page, server.base, user);
    assert.equal(new URL(page.url()).pathname, '/home');
    // 我的工作: the village's cases in progress with their due dates.
    assert.ok(await page.locator('#home-area-cases tbody tr').count() >= 1);
    await assertFits(page, `${user} home`);
    await page.screenshot({ path: join(screenshots, `phone-${label}-home.png`), fullPage: true });
    await page.goto(`${server.base}/households?q=永院村`);
    await assertFits(page, 'registry search');
    const household = await firstLink(page, /^\/households\/\d+$/);
    assert.ok(household, 'the search lists households');
    await page.goto(server.base + household);
    await assertFits(page, 'household page');
    // Beijing time, never a UTC instant (issue 15).
    assert.doesNotMatch(await page.textContent('main'), /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    await page.screenshot({ path: join(screenshots, `phone-${label}-household.png`), fullPage: true });
    await page.goto(`${server.base}/warnings`);
    await assertFits(page, 'warning list');
    const warning = await firstLink(page, /^\/warnings\/\d+$/);
    assert.ok(warning, 'the village has warnings');
    await page.goto(server.base + warning);
    await assertFits(page, 'warning step');
    await page.screenshot({ path: join(screenshots, `phone-${label}-warning.png`), fullPage: true });
    await page.goto(`${server.base}/cases/new`);
    await assertFits(page, 'intake');
    await page.goto(`${server.base}/contacts`);
    await assertFits(page, 'visits and hotline');
    await page.context().close();
  });
}

test('i15_case_page_fits_a_phone_and_a_desk', async () => {
  for (const [viewport, name] of [[PHONE, 'phone'], [DESK, 'desk']]) {
    const page = await phonePage(viewport);
    await login(page, server.base, 'bachuan');
    await page.goto(`${server.base}/cases`);
    await assertFits(page, `${name} case queue`);
    const link = await firstLink(page, /^\/cases\/\d+$/);
    assert.ok(link, 'the queue lists cases');
    await page.goto(server.base + link);
    await assertFits(page, `${name} case page`);
    // Tables are cards on the phone: each cell names its column.
    if (name === 'phone') {
      const labelled = await page.locator('main table.cards td[data-label]').count();
      assert.ok(labelled > 0, 'table cells carry their column labels');
    }
    await page.screenshot({ path: join(screenshots, `${name}-case.png`), fullPage: true });
    await page.context().close();
  }
});

// A valid GB 11643 number from its first 17 digits.
function idNumber(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

test('i15_apply_and_track_fit_a_phone_and_track_needs_the_phone', async () => {
  const page = await phonePage();
  await page.goto(`${server.base}/apply`);
  await assertFits(page, '/apply');
  await page.fill('#name', '李小兰');
  const id = idNumber('50022419850505004');
  await page.fill('#id_number', id);
  await page.fill('#phone', '13900001111');
  await page.selectOption('#village', { label: '巴川街道 永院村' });
  await page.fill('#household_size', '7');
  await page.fill('#hardship', '家中七口人，丈夫务工受伤');
  await page.check('#consent');
  await page.screenshot({ path: join(screenshots, 'phone-apply.png'), fullPage: true });
  await clickAndLoad(page, '#apply-form button[type=submit]');
  await assertFits(page, 'apply done');
  const receipt = (await page.textContent('#apply-number')).trim();
  await clickAndLoad(page, '#apply-track');
  await assertFits(page, '/track form');
  // A wrong phone: nothing is shown.
  await page.fill('#proof', '13900002222');
  await clickAndLoad(page, '#track-form button[type=submit]');
  assert.match(await page.textContent('#track-message'), /未查到该申请/);
  assert.equal(await page.locator('#progress').count(), 0);
  // The ID number's last four digits: the steps with their dates.
  await page.fill('#number', receipt);
  await page.fill('#proof', id.slice(-4));
  await clickAndLoad(page, '#track-form button[type=submit]');
  assert.equal((await page.textContent('#track-step')).trim(), '已受理您的申请');
  assert.match(await page.textContent('#track-steps'), /\d{4}-\d{2}-\d{2} 已受理您的申请/);
  await assertFits(page, '/track result');
  await page.screenshot({ path: join(screenshots, 'phone-track.png'), fullPage: true });
  await page.context().close();
});
