// 打印件 in a real browser (issue 6): every printout is on the one A4 print layout — the
// toolbar does not print, the PDF is A4, the text is Chinese laid out in a CJK font, and no
// 18-digit ID number appears unmasked. Covers the 村级公示 (from the 办件 queue), the referral
// slip (转介单), the per-case printouts and the joint report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

// A4 in points: 595.28 × 841.89.
const A4_PORTRAIT = /\/MediaBox\s*\[\s*0 0 59[45]\.\d+ 841\.\d+\s*\]/;
const A4_LANDSCAPE = /\/MediaBox\s*\[\s*0 0 841\.\d+ 59[45]\.\d+\s*\]/;

/// Checks the page on screen and in print, writes its screenshot and PDF as `name`; returns
/// the PDF's page count.
/// `fullIds`: the survey report (通用表单) shows full ID numbers to the roles that see them.
async function assertPrintable(page, name, { landscape = false, fullIds = false } = {}) {
  assert.equal(await page.locator('link[href="/static/print.css"]').count(), 1, `${name}: the shared stylesheet`);
  assert.equal(await page.locator('style').count(), 0, `${name}: no styles of its own`);
  assert.equal(await page.locator('article.sheet h1.doc-title').count(), 1, `${name}: one document title`);
  // As laid out (cells apart), so that adjacent figures do not run together.
  const text = await page.innerText('article.sheet');
  const han = (text.match(/[\u4e00-\u9fff]/g) ?? []).length;
  assert.ok(han > 40, `${name}: Chinese text (${han} characters)`);
  if (!fullIds) assert.doesNotMatch(text, /\d{17}[\dXx]/, `${name}: no unmasked ID number`);
  // Laid out with a CJK font, not tofu: the title is as wide as its characters.
  const width = await page.$eval('h1.doc-title', (h) => {
    const range = document.createRange();
    range.selectNodeContents(h);
    return range.getBoundingClientRect().width;
  });
  assert.ok(width > 120, `${name}: title width ${width}`);
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.toolbar').isVisible(), false, `${name}: the toolbar does not print`);
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  writeFileSync(join(screenshots, `${name}.pdf`), pdf);
  const raw = pdf.toString('latin1');
  assert.match(raw, landscape ? A4_LANDSCAPE : A4_PORTRAIT, `${name}: A4 ${landscape ? 'landscape' : 'portrait'}`);
  return (raw.match(/\/Type\s*\/Page[^s]/g) ?? []).length;
}

test('p7_village_notice_from_the_queue_lists_the_cases_at_notice_masked', async () => {
  let page = await browser.newPage();
  await login(page, server.base, 'cunshe');
  await page.goto(`${server.base}/cases`);
  const link = page.locator('#village-notices a', { hasText: '打印本村公示' });
  assert.equal(await link.count(), 1, 'the village assistant has the link to the village notice');
  await page.goto(new URL(await link.getAttribute('href'), server.base).href);
  assert.match(await page.textContent('h1'), /永院村.*公示/);
  const rows = page.locator('#village-notice tbody tr');
  assert.ok((await rows.count()) >= 1, 'the demo case at 公示 is listed');
  assert.match(await page.textContent('#village-notice'), /DEMO|TL\d{8}-\d{4}/);
  for (const id of await page.locator('#village-notice tbody tr td:nth-child(4)').allTextContents()) {
    assert.match(id, /^\d{6}\*{8}\d{3}[\dX]$/, 'ID numbers are masked');
  }
  for (const head of await page.locator('#village-notice tbody tr td:nth-child(3)').allTextContents()) {
    assert.match(head, /^.\*+$/, `names are masked: ${head}`);
  }
  const text = await page.textContent('article');
  assert.ok(!/残疾|重病|疾病|银行|账号/.test(text), 'no health or bank data');
  assert.match(await page.textContent('#village-notice-objection'), /巴川街道社会救助经办机构/);
  const pages = await assertPrintable(page, 'print-village-notice');
  assert.equal(pages, 1, 'one village, one sheet');

  await page.close();

  // The town reviewer reaches the same notice from the case page; another village is empty.
  page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/cases`);
  const row = page.locator('#queue tbody tr', { hasText: 'DEMO-A003' }).first();
  await clickAndLoad(page, row.locator('a'));
  const href = await page.locator('#print-village-notice').getAttribute('href');
  assert.match(href, /^\/villages\/500151001200\/print\/notice$/);
  await page.goto(`${server.base}/villages/500151001001/print/notice`);
  assert.match(await page.textContent('#village-notice-empty'), /本村当前无公示事项/);
  await assertPrintable(page, 'print-village-notice-empty');
  const other = await page.goto(`${server.base}/villages/500151100200/print/notice`);
  assert.equal(other.status(), 404, 'another town’s village is not found');
  await page.close();
});

test('a3_referral_slip_is_on_the_print_layout', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bumen');
  await clickAndLoad(page, page.locator('#referrals a', { hasText: '转介单' }).first());
  assert.match(await page.textContent('h1'), /救助帮扶转介单/);
  assert.match((await page.textContent('#slip-head')).trim(), /^.\*+$/);
  assert.equal(await page.locator('.toolbar a').getAttribute('href'), '/referrals');
  const pages = await assertPrintable(page, 'print-referral-slip');
  assert.equal(pages, 1, 'the slip is one sheet');
  await page.close();
});

/// Issue 15 item 9: what is signed, the supervision telephone, the rights of review and the
/// seal or signatures are one block that does not break across pages.
async function assertSignBlock(page, name, contents) {
  const block = page.locator('article.sheet .sign-block');
  assert.equal(await block.count(), 1, `${name}: one signature block`);
  assert.equal(await block.evaluate((el) => getComputedStyle(el).breakInside), 'avoid', `${name}: not split`);
  assert.match(await block.innerText(), contents, `${name}: what the block holds`);
}

test('p4_p7_p8_r1_every_printout_shares_the_layout', async () => {
  const page = await browser.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/cases`);
  await clickAndLoad(page, page.locator('#queue tbody tr', { hasText: 'DEMO-A003' }).first().locator('a'));
  const caseUrl = page.url();
  await page.goto(`${caseUrl}/print/survey`);
  await assertPrintable(page, 'layout-survey', { fullIds: true });
  await page.goto(`${caseUrl}/print/notice`);
  await assertSignBlock(page, 'notice', /监督电话[\s\S]*行政复议[\s\S]*盖章/);
  await assertPrintable(page, 'layout-notice');
  await page.goto(`${server.base}/cases`);
  await clickAndLoad(page, page.locator('#queue tbody tr', { hasText: 'DEMO-A005' }).first().locator('a'));
  await page.goto(`${page.url()}/print/refusal`);
  await assertSignBlock(page, 'refusal', /理由[\s\S]*行政复议[\s\S]*监督电话[\s\S]*申请人签收/);
  await assertPrintable(page, 'layout-refusal');
  await page.goto(`${server.base}/reports`);
  await clickAndLoad(page, '#print-view');
  assert.ok((await page.locator('figure.chart svg rect').count()) > 10, 'the report keeps its charts');
  const pages = await assertPrintable(page, 'layout-report', { landscape: true });
  assert.ok(pages >= 6, `a page or more per section, got ${pages}`);
  await page.close();
});
