// 报表 and 驾驶舱 in a real browser: the dashboard's ECharts canvases are drawn from the vendored
// library and drill down district → town → village; a town user sees only the town; the joint
// report's printable page renders in Chinese with its charts and prints to A4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

// Coloured pixels of a chart's canvas (an empty canvas has none).
async function inkOf(page, selector) {
  await page.waitForSelector(`${selector}[data-drawn="1"] canvas`, { timeout: 20_000 });
  return page.$eval(`${selector} canvas`, (canvas) => {
    const ctx = canvas.getContext('2d');
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) ink += 1;
    }
    return ink;
  });
}

test('r1_dashboard_draws_charts_and_drills_down_district_town_village', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const failed = [];
  page.on('requestfailed', (request) => failed.push(request.url()));
  page.on('pageerror', (error) => failed.push(String(error)));
  await login(page, server.base, 'minzheng');
  await page.goto(`${server.base}/dashboard`);
  assert.match(await page.textContent('h1'), /驾驶舱：铜梁区/);
  for (const chart of ['#chart-units', '#chart-trend', '#chart-amounts', '#chart-steps']) {
    const ink = await inkOf(page, chart);
    assert.ok(ink > 200, `${chart} is drawn (${ink} coloured pixels)`);
  }
  assert.ok(Number(await page.textContent('#kpi-households')) > 0);
  assert.deepEqual(failed, [], 'no failed request or script error (no CDN)');
  await page.screenshot({ path: join(screenshots, 'dashboard-district.png'), fullPage: true });
  // District → town → village.
  await clickAndLoad(page, '#drill a:text("巴川街道")');
  assert.match(await page.textContent('h1'), /巴川街道/);
  assert.match(await page.textContent('#crumbs'), /铜梁区.*巴川街道/);
  await inkOf(page, '#chart-units');
  await clickAndLoad(page, page.locator('#drill a').first());
  assert.match(await page.textContent('h1'), /巴川街道 \S+/);
  assert.equal(await page.locator('#drill a').count(), 0, 'a village is the bottom');
  await page.close();
});

test('r1_town_user_dashboard_shows_only_the_town', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/dashboard`);
  assert.match(await page.textContent('h1'), /驾驶舱：铜梁区 巴川街道/);
  const units = await page.locator('#drill tbody td:first-child').allTextContents();
  assert.ok(units.length > 1 && units.every((name) => !name.includes('土桥')), `villages of 巴川: ${units}`);
  assert.ok((await inkOf(page, '#chart-units')) > 100);
  const other = await page.goto(`${server.base}/dashboard?area=500151100`);
  assert.equal(other.status(), 404);
  await page.close();
});

test('r1_printable_report_renders_in_chinese_with_charts_and_prints_a4', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await login(page, server.base, 'minzheng');
  await page.goto(`${server.base}/reports`);
  assert.match(await page.textContent('h1'), /半年联合报告/);
  const download = page.waitForEvent('download');
  await page.click('#download-xlsx');
  const file = await download;
  assert.match(file.suggestedFilename(), /^joint-report-500151-\d{4}H[12]\.xlsx$/);
  await clickAndLoad(page, '#print-view');
  assert.match(await page.title(), /铜梁区 \d{4}年[上下]半年低收入人口救助帮扶工作情况/);
  const text = await page.textContent('body');
  for (const words of ['一、在册对象', '二、纳入与退出', '三、救助金额', '四、案件办理', '填报单位（盖章）']) {
    assert.ok(text.includes(words), words);
  }
  // The SVG charts have bars, and the Chinese text is laid out with a CJK font (not tofu).
  assert.ok((await page.locator('figure.chart svg rect').count()) > 20);
  const width = await page.$eval('h1', (h) => {
    const range = document.createRange();
    range.selectNodeContents(h);
    return range.getBoundingClientRect().width;
  });
  assert.ok(width > 200, `title width ${width}`);
  await page.screenshot({ path: join(screenshots, 'report-print.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.toolbar').isVisible(), false, 'the toolbar does not print');
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  writeFileSync(join(screenshots, 'report-print.pdf'), pdf);
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  assert.ok(pages >= 6, `one page or more per section, got ${pages}`);
  // A4 landscape: 842 × 595 points.
  assert.match(pdf.toString('latin1'), /\/MediaBox\s*\[\s*0 0 841\.\d+ 59[45]\.\d+\s*\]/);
  await page.close();
});
