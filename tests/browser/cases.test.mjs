// 办件 in a real browser (issue 4): the work queue, a case page and one action, and the
// printouts (入户调查报告, 公示, 不予认定告知书) rendering on the A4 print layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

/// The case page of the demo case of household `householdId`, opened from the queue.
async function openFromQueue(page, householdId) {
  await page.goto(`${server.base}/cases`);
  const row = page.locator('#queue tbody tr', { hasText: householdId }).first();
  await clickAndLoad(page, row.locator('a'));
  assert.match(new URL(page.url()).pathname, /^\/cases\/\d+$/);
}

test('p9_queue_then_case_page_then_one_action', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await clickAndLoad(page, 'nav >> text=办件');
  const rows = await page.locator('#queue tbody tr').count();
  assert.ok(rows >= 4, `the demo seeds cases at several steps, got ${rows}`);
  const dues = await page.locator('#queue tbody tr td:nth-child(7)').allTextContents();
  assert.deepEqual(dues, [...dues].sort(), 'sorted by due date');
  await page.screenshot({ path: join(screenshots, 'cases-queue.png'), fullPage: true });

  await openFromQueue(page, 'DEMO-A001');
  assert.equal((await page.textContent('#step')).trim(), '受理');
  assert.match(await page.textContent('#timeline'), /受理：救助帮扶申请/);
  await clickAndLoad(page, '#action-begin_comparison button[type=submit]');
  assert.equal((await page.textContent('#step')).trim(), '信息比对');
  assert.match(await page.textContent('#timeline'), /进入“信息比对”环节/);
  assert.match(await page.textContent('#timeline'), /巴川街道 张审核/);

  // A wrong move is refused in Chinese next to its form, nothing recorded.
  await clickAndLoad(page, '#action-refuse button[type=submit]');
  assert.match(await page.textContent('#action-error'), /须写明理由/);
  assert.equal((await page.textContent('#step')).trim(), '信息比对');
  await page.screenshot({ path: join(screenshots, 'case-page.png'), fullPage: true });
  await page.close();
});

test('p4_p7_p8_printouts_render_on_the_print_layout', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await openFromQueue(page, 'DEMO-A003');
  const caseUrl = page.url();

  await page.goto(`${caseUrl}/print/survey`);
  assert.match(await page.textContent('h1'), /入户调查报告/);
  assert.equal(await page.locator('#survey-members tr').count(), 4, 'a header and three members');
  assert.equal(await page.locator('#survey-team div').count(), 4, 'two surveyors, the head, the date');
  const sheet = await page.locator('article.sheet').boundingBox();
  assert.ok(Math.abs(sheet.width - 794) < 3, `an A4 sheet is 210 mm wide on screen, got ${sheet.width}`);
  await page.screenshot({ path: join(screenshots, 'print-survey.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.toolbar').isVisible(), false, 'the toolbar is not printed');
  await page.emulateMedia({ media: 'screen' });

  await page.goto(`${caseUrl}/print/notice`);
  assert.match(await page.textContent('h1'), /公示/);
  const ids = await page.locator('#notice-members tr td:nth-child(3)').allTextContents();
  assert.equal(ids.length, 3);
  for (const id of ids) assert.match(id, /^\d{6}\*{8}\d{3}[\dX]$/, 'ID numbers are masked');
  const text = await page.textContent('article');
  assert.ok(!/残疾|重病|疾病|银行|账号/.test(text), 'no health or bank data');
  await page.screenshot({ path: join(screenshots, 'print-notice.png'), fullPage: true });

  await openFromQueue(page, 'DEMO-A005');
  await page.goto(`${page.url()}/print/refusal`);
  assert.match(await page.textContent('h1'), /不予认定告知书/);
  assert.match(await page.textContent('#refusal-reason'), /户籍不在本村/);
  await page.screenshot({ path: join(screenshots, 'print-refusal.png'), fullPage: true });
  await page.close();
});

test('p1_public_tracking_shows_the_step_only', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/track`);
  await page.fill('#number', 'TL19990101-0001');
  await page.fill('#proof', '13812345678');
  await clickAndLoad(page, '#track-form button[type=submit]');
  assert.match(await page.textContent('#track-message'), /未查到该申请/);
  await page.close();
});

test('i14_each_district_department_confirms_a_demo_case_past_its_notice_from_its_queue', async () => {
  // The demo holds the whole loop (issue 14 item 7): 区民政局 confirms the 低保 of A008 and
  // 区农业农村委 the monitoring tag of A009, each from its own 办件 queue.
  for (const [username, householdId] of [['minzheng', 'DEMO-A008'], ['nongye', 'DEMO-A009']]) {
    const page = await browser.newPage();
    await login(page, server.base, username);
    await openFromQueue(page, householdId);
    assert.equal((await page.textContent('#step')).trim(), '公示', `${householdId} waits at 公示`);
    await clickAndLoad(page, '#action-confirm button[type=submit]');
    assert.equal((await page.textContent('#step')).trim(), '已认定', `${username} confirmed ${householdId}`);
    await page.close();
  }
  // The 告知书 names the demo's review bodies, marked as demo settings.
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await openFromQueue(page, 'DEMO-A005');
  await page.goto(`${page.url()}/print/refusal`);
  assert.match(await page.textContent('#reconsideration-body'), /人民政府（演示）/);
  assert.match(await page.textContent('#litigation-court'), /人民法院（演示）/);
  await page.close();
});
