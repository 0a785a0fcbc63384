// 线上申请 (P1) in a real browser: an anonymous visitor fills the online application, sees the
// receipt (查询码) and follows it on /track with the phone; a bad ID number is refused in Chinese beside its field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

// A valid GB 11643 number from its first 17 digits.
function idNumber(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

async function fill(page, id) {
  await page.fill('#name', '王小梅');
  await page.fill('#id_number', id);
  await page.fill('#phone', '13812345678');
  // The town select narrows the village list to that town.
  await page.selectOption('#town', '巴川街道');
  const shown = await page.locator('#village optgroup:not([disabled])').evaluateAll((groups) => groups.map((g) => g.label));
  assert.deepEqual(shown, ['巴川街道']);
  await page.selectOption('#village', { label: '巴川街道 永院村' });
  await page.fill('#household_size', '3');
  await page.fill('#hardship', '丈夫患尿毒症长期透析，家中无稳定收入');
  await page.check('#consent');
}

test('p1_online_application_shows_the_tracking_number_then_a_bad_id_is_refused', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/login`);
  await clickAndLoad(page, '#apply-link');
  assert.equal(new URL(page.url()).pathname, '/apply');
  assert.match(await page.textContent('#consent-text'), /授权/);

  await fill(page, idNumber('50022419800101002'));
  await clickAndLoad(page, '#apply-form button[type=submit]');
  const receipt = (await page.textContent('#apply-number')).trim();
  assert.match(receipt, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
  await page.screenshot({ path: join(screenshots, 'apply-done.png'), fullPage: true });

  // /track: the receipt is filled in; the phone proves it is the applicant's.
  await clickAndLoad(page, '#apply-track');
  assert.equal(await page.inputValue('#number'), receipt);
  await page.fill('#proof', '13812345678');
  await clickAndLoad(page, '#track-form button[type=submit]');
  assert.equal((await page.textContent('#track-step')).trim(), '已受理您的申请');

  await page.goto(`${server.base}/apply`);
  const good = idNumber('50022419900202003');
  const bad = good.slice(0, 17) + (good.endsWith('1') ? '2' : '1');
  await fill(page, bad);
  await clickAndLoad(page, '#apply-form button[type=submit]');
  assert.match(await page.textContent('#id_number-error'), /身份证号校验位错误/);
  assert.equal(await page.inputValue('#hardship'), '丈夫患尿毒症长期透析，家中无稳定收入');
  assert.equal(await page.inputValue('#id_number'), bad);
  await page.close();
});
