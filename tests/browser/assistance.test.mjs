// 救助帮扶 in a real browser: the household's 救助帮扶 section with a proposal sent as a
// referral, the same section previewed (预计帮扶) on a running case's page, the department's
// queue (accept, deliver), and the printable referral slip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

test('a1_household_page_proposes_and_sends_a_referral', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'minzheng');
  // The demo sent referrals from the first households; find one with a proposal left.
  await page.goto(`${server.base}/households`);
  const links = await page.locator('#households tbody tr td a').evaluateAll((as) => as.map((a) => a.href));
  let sent = false;
  for (const href of links) {
    await page.goto(href);
    assert.ok(await page.locator('#assist').count(), 'the household page has the 救助帮扶 section');
    const buttons = page.locator('#proposals button');
    if ((await buttons.count()) === 0) continue;
    const before = await page.locator('#chain tbody tr').count();
    await clickAndLoad(page, buttons.first());
    assert.match(await page.textContent('#chain'), /待受理/);
    assert.ok((await page.locator('#chain tbody tr').count()) >= before);
    await page.screenshot({ path: join(screenshots, 'assistance.png'), fullPage: true });
    sent = true;
    break;
  }
  assert.ok(sent, 'some household of the first page has a proposal to send');
  await page.close();
});

test('a3_department_user_accepts_delivers_and_prints_the_slip', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bumen');
  assert.equal(new URL(page.url()).pathname, '/referrals', 'a department user starts at the queue');
  assert.match(await page.textContent('h1'), /区医保局/);
  const accept = page.locator('#referrals button', { hasText: '受理' });
  if ((await accept.count()) > 0) {
    await clickAndLoad(page, accept.first());
  }
  const form = page.locator('#referrals form', { hasText: '登记落实' }).first();
  await form.locator('input[name=amount]').fill('800');
  await clickAndLoad(page, form.locator('button'));
  assert.equal(new URL(page.url()).pathname, '/referrals');
  assert.match(await page.textContent('#referrals'), /800\.00 元/);
  await page.screenshot({ path: join(screenshots, 'referrals.png'), fullPage: true });
  await clickAndLoad(page, page.locator('#referrals a', { hasText: '转介单' }).first());
  assert.match(await page.textContent('h1'), /救助帮扶转介单/);
  const head = (await page.textContent('#slip-head')).trim();
  assert.match(head, /^.\*+$/, `the head's name is masked: ${head}`);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.toolbar').isVisible(), false, 'the toolbar is not printed');
  const pdf = await page.pdf({ preferCSSPageSize: true });
  assert.ok(pdf.length > 1000, 'the slip prints');
  await page.close();
});

test('a2_case_page_previews_the_proposals_in_chinese', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  // The demo case DEMO-A003 is surveyed and reviewed, its notice running: not yet confirmed.
  await page.goto(`${server.base}/cases`);
  const row = page.locator('#queue tbody tr', { hasText: 'DEMO-A003' }).first();
  await clickAndLoad(page, row.locator('a'));
  assert.match(new URL(page.url()).pathname, /^\/cases\/\d+$/);
  assert.equal((await page.textContent('#assistance')).trim(), '救助帮扶（预计帮扶）');
  assert.match(await page.textContent('#assist-preview'), /预计帮扶.*审核确认/);
  assert.match(await page.textContent('#assist'), /联合研判认定意见/);
  assert.match(await page.textContent('#needs'), /[\u4e00-\u9fff]/, 'the needs are written in Chinese');
  for (const part of ['#needs', '#proposals tbody']) {
    assert.doesNotMatch(await page.textContent(part), /已认定为/, 'the categories are not held yet: 拟认定');
  }
  assert.match(await page.textContent('#proposals thead'), /救助项目.*部门.*理由/);
  assert.equal(await page.locator('#assist form').count(), 0, 'nothing can be sent before confirmation');
  await page.locator('#assist').screenshot({ path: join(screenshots, 'case-assistance.png') });
  await page.close();
});
