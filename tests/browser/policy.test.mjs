// 政策参数 in a real browser: district civil affairs opens /policy, adds a dated value of the
// rural 低保标准 and sees it listed with its 文号 and origin; a value the unit does not take is
// refused in Chinese beside the form, the input kept; a town reviewer reads without a form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

const RURAL = '[id="p-dibao.standard.rural"]';

test('policy_page_adds_a_dated_value_and_refuses_a_bad_one_in_chinese', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'minzheng');
  await clickAndLoad(page, page.locator('nav a', { hasText: '政策参数' }));
  assert.equal(new URL(page.url()).pathname, '/policy');
  assert.match(await page.textContent('h1'), /政策参数/);
  const section = page.locator(RURAL);
  assert.match(await section.locator('.in-force').textContent(), /元\/人·月/);
  assert.match(await section.locator('table.history').textContent(), /内置/);

  // A bad value: the error names 数值, beside this parameter's form, with the input kept.
  await section.locator('summary', { hasText: '添加取值' }).click();
  await section.locator('input[name=since]').fill('2027-01-01');
  await section.locator('input[name=value]').fill('六百八');
  await section.locator('input[name=source]').fill('渝民规〔2026〕9号');
  await clickAndLoad(page, section.locator('button', { hasText: '添加' }));
  const refused = page.locator(RURAL);
  assert.match(await refused.locator('.errors').textContent(), /数值“六百八”无效/);
  assert.equal(await refused.locator('input[name=value]').inputValue(), '六百八');
  assert.equal(await refused.locator('input[name=source]').inputValue(), '渝民规〔2026〕9号');
  assert.equal(await refused.locator('input[name=since]').inputValue(), '2027-01-01');
  await page.screenshot({ path: join(screenshots, 'policy-error.png'), fullPage: false });

  // Corrected, it is added and listed with its 文号, by whom, as 平台添加.
  await refused.locator('input[name=value]').fill('680');
  await refused.locator('input[name=note]').fill('2027年度标准');
  await clickAndLoad(page, refused.locator('button', { hasText: '添加' }));
  assert.equal(new URL(page.url()).pathname, '/policy');
  const added = page.locator(RURAL).locator('table.history tbody tr').first();
  const row = await added.textContent();
  assert.match(row, /2027-01-01/);
  assert.match(row, /680 元\/人·月/);
  assert.match(row, /渝民规〔2026〕9号/);
  assert.match(row, /2027年度标准/);
  assert.match(row, /平台添加/);
  await page.locator(RURAL).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(screenshots, 'policy.png'), fullPage: false });
  await page.close();
});

test('policy_page_is_read_only_for_a_town_reviewer', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/policy`);
  assert.match(await page.locator(RURAL).textContent(), /农村低保标准/);
  assert.equal(await page.locator('details.add-value').count(), 0, 'no form to add values');
  await page.close();
});
