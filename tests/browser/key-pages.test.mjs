// Key pages in a real browser: login, the registry search, the household page, the household
// form with its Chinese field errors, and masking for a grid worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

test('u2_login_refuses_a_wrong_password_in_chinese', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan', 'wrong-password');
  assert.equal(await page.textContent('#login-error'), '用户名或密码错误');
  assert.match(await page.title(), /登录/);
  await page.close();
});

test('d1_town_reviewer_searches_the_registry_and_opens_a_household', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  assert.equal(new URL(page.url()).pathname, '/households');
  const rows = await page.locator('#households tbody tr').count();
  assert.ok(rows > 1, `expected households in 巴川街道, got ${rows} rows`);
  const codes = await page.locator('#households tbody tr td:nth-child(5) .muted').allTextContents();
  assert.ok(codes.every((code) => code.startsWith('500151001')), `only 巴川街道 codes: ${codes}`);
  const headName = (await page.locator('#households tbody tr td:nth-child(2)').first().textContent()).trim();
  await page.fill('input[name=q]', headName);
  await clickAndLoad(page, 'form.search button');
  const names = await page.locator('#households tbody tr td:nth-child(2)').allTextContents();
  assert.ok(names.includes(headName), `search for ${headName} finds it`);
  await clickAndLoad(page, page.locator('#households tbody tr td a').first());
  assert.match(await page.textContent('h1'), /家庭档案 H\d{8}/);
  assert.ok((await page.locator('#members tbody tr').count()) >= 1);
  assert.ok((await page.locator('#composition tbody tr').count()) >= 1);
  await page.screenshot({ path: join(screenshots, 'household.png'), fullPage: true });
  await page.close();
});

test('d1_household_form_names_the_bad_field_in_chinese_then_saves', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/households/new`);
  await page.fill('#id', 'H-BROWSER-1');
  await page.selectOption('#area_code', { index: 1 });
  await page.fill('input[name=m0_id_number]', '500224194503120012');
  await page.fill('input[name=m0_name]', '测试户主');
  await page.selectOption('select[name=m0_relation]', 'head');
  await page.fill('#inc_wages', '12.345');
  await clickAndLoad(page, '#household-form > p > button[type=submit]:not([name])');
  const errors = await page.textContent('#form-errors');
  assert.match(errors, /工资性收入应为不小于0、最多两位小数的金额/);
  await page.screenshot({ path: join(screenshots, 'form-errors.png'), fullPage: true });
  await page.fill('#inc_wages', '12.34');
  await clickAndLoad(page, '#household-form > p > button[type=submit]:not([name])');
  assert.match(await page.textContent('#form-errors'), /第1位成员 身份证号：身份证号校验位错误，应为1/);
  assert.match(await page.textContent('.member-error'), /校验位错误/);
  await page.fill('input[name=m0_id_number]', '500224194503120011');
  await clickAndLoad(page, '#household-form > p > button[type=submit]:not([name])');
  assert.match(new URL(page.url()).pathname, /^\/households\/\d+$/);
  assert.match(await page.textContent('#members'), /测试户主/);
  await page.close();
});

test('u2_grid_worker_sees_masked_names_and_ids', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'wangge');
  assert.equal(new URL(page.url()).pathname, '/home', 'the grid worker arrives at 我的工作');
  await page.goto(`${server.base}/households`);
  const ids = await page.locator('#households tbody tr td:nth-child(3)').allTextContents();
  assert.ok(ids.length > 0, 'the grid worker sees the households of the grid\'s village');
  for (const id of ids) assert.match(id, /^\d{6}\*{8}\d{3}[\dX]$/);
  const names = await page.locator('#households tbody tr td:nth-child(2)').allTextContents();
  for (const name of names) assert.match(name, /^.\*+$/);
  await page.screenshot({ path: join(screenshots, 'masked-list.png'), fullPage: true });
  await page.close();
});

test('p6_household_page_explains_the_rules_and_replays_a_past_date', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'minzheng');
  await page.goto(`${server.base}/households`);
  await clickAndLoad(page, page.locator('#households tbody tr td a').first());
  assert.ok((await page.locator('#explanation tbody tr').count()) > 3, 'every rule evaluated is explained');
  const explanation = await page.textContent('#explanation');
  // Parameters by their Chinese names with value, date and source; no parameter codes on the page.
  assert.match(explanation, /农村低保标准：\d+/);
  assert.ok(!explanation.includes('dibao.standard.rural'), 'no parameter code on the page');
  await page.fill('#as_of', '2025-06-30');
  await clickAndLoad(page, '#assessment button[type=submit]');
  assert.match(page.url(), /as_of=2025-06-30/);
  const text = await page.textContent('#explanation');
  assert.ok(!text.includes('630 元（渝民规〔2025〕6号'), 'the 2025-07-01 standard is not applied on 2025-06-30');
  await page.screenshot({ path: join(screenshots, 'assessment.png'), fullPage: true });
  await page.close();
});

test('p6_district_user_simulates_a_higher_standard_and_exports_it', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'minzheng');
  await page.goto(`${server.base}/simulation`);
  await page.fill('#set', 'dibao.standard.rural=700');
  await page.fill('#as_of', '2025-08-01');
  await clickAndLoad(page, '#simulation-form button[type=submit]');
  const difference = Number((await page.textContent('#cost-difference')).trim());
  assert.ok(difference > 0, `a higher standard costs more each month: ${difference}`);
  const rows = await page.locator('#simulation-table tbody tr').count();
  assert.equal(rows, 29, '28 towns and streets and the total');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=导出 Excel')]);
  assert.equal(download.suggestedFilename(), 'simulation.xlsx');
  await page.fill('#set', 'no.such.parameter=1');
  await clickAndLoad(page, '#simulation-form button[type=submit]');
  assert.match(await page.textContent('#simulation-error'), /未知参数/);
  await page.close();
});
