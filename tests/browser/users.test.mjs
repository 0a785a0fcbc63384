// 用户管理 in a real browser: the demo administrator opens 用户管理 from the navigation, a bad
// new-user form comes back with the fault in Chinese beside its field and the input kept, and
// the corrected form creates a 专项部门 user who then signs in to their department's queue.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

test('u2_admin_creates_a_user_through_the_page_and_sees_faults_in_chinese', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'admin');
  assert.equal(new URL(page.url()).pathname, '/admin/users', 'the administrator starts at 用户管理');
  assert.match(await page.textContent('nav'), /用户管理/);
  assert.match(await page.textContent('#users'), /minzheng/);
  await page.screenshot({ path: join(screenshots, 'users.png'), fullPage: true });

  await clickAndLoad(page, '#new-user');
  await page.fill('#username', 'yibao-zhou');
  await page.fill('#display_name', '区医保局 周新');
  await page.selectOption('#role', 'department');
  await page.fill('#area', '500151');
  await page.fill('#password', 'demo-2025-new');
  // No department chosen for a 专项部门 user: refused, named beside the field.
  await clickAndLoad(page, '#user-form button[type=submit]');
  assert.match(await page.textContent('#department-error'), /专项部门用户须选择所属部门/);
  assert.equal(await page.inputValue('#username'), 'yibao-zhou', 'the input is kept');
  assert.equal(await page.inputValue('#display_name'), '区医保局 周新');
  assert.equal(await page.inputValue('#password'), '', 'but not the password');
  await page.screenshot({ path: join(screenshots, 'user-form-error.png'), fullPage: true });

  await page.selectOption('#department', 'medical_security');
  await page.fill('#password', 'demo-2025-new');
  await clickAndLoad(page, '#user-form button[type=submit]');
  assert.match(new URL(page.url()).pathname, /^\/admin\/users\/\d+$/);
  assert.match(await page.textContent('#saved'), /已保存/);
  assert.match(await page.textContent('h1'), /yibao-zhou/);
  await page.screenshot({ path: join(screenshots, 'user.png'), fullPage: true });
  await page.close();

  const user = await browser.newPage();
  await login(user, server.base, 'yibao-zhou', 'demo-2025-new');
  assert.equal(new URL(user.url()).pathname, '/referrals');
  assert.match(await user.textContent('h1'), /区医保局/);
  await user.close();
});
