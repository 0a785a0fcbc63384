// Any household size (issue 15 item 2): at 390 × 844 a village assistant surveys a household of
// seven, adding member rows with 添加成员 (members.js, no round trip); the member rows are
// stacked cards and the page is never wider than the phone. The 户口簿 is then photographed
// from the same page (材料) and shows as a thumbnail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

// A valid GB 11643 number from its first 17 digits.
function idNumber(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

async function assertFits(page, what) {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

test('i15_survey_of_seven_members_on_a_phone', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/cases`);
  await clickAndLoad(page, page.locator('#queue tbody tr', { hasText: 'DEMO-A001' }).first().locator('a'));
  await clickAndLoad(page, '#action-begin_comparison button[type=submit]');
  await clickAndLoad(page, '#action-complete_comparison button[type=submit]');
  await page.waitForSelector('#survey-form');
  await assertFits(page, 'case page with the survey form');

  const rows = page.locator('#member-rows tr.member-row');
  while (await rows.count() < 7) {
    const before = await rows.count();
    await page.click('#add-member');
    assert.equal(await rows.count(), before + 1, '添加成员 adds a row in the page');
  }
  // The last row's 删除 removes it in the page; 添加成员 brings one back.
  await rows.last().locator('button.remove-member').click();
  assert.equal(await rows.count(), 6);
  await page.click('#add-member');
  assert.equal(await rows.count(), 7);
  for (let i = 0; i < 7; i++) {
    const row = rows.nth(i);
    const idField = row.locator('input[name$="_id_number"]');
    if ((await idField.inputValue()).trim() === '') {
      await idField.fill(idNumber(`500224197701018${String(10 + i).padStart(2, '0')}`));
      await row.locator('input[name$="_name"]').fill(`调查成员${i + 1}`);
      await row.locator('select[name$="_relation"]').selectOption(i === 0 ? 'head' : 'child');
    }
  }
  await assertFits(page, 'survey form with seven member rows');
  // Each member row is a card, each field labelled.
  const label = await rows.nth(6).locator('td').first().getAttribute('data-label');
  assert.equal(label, '身份证号');
  await page.screenshot({ path: join(screenshots, 'phone-survey-seven.png'), fullPage: true });

  const team = page.locator('#survey-form input[name=team]');
  for (let k = 0; k < Math.min(2, await team.count()); k++) { await team.nth(k).check(); }
  await clickAndLoad(page, '#survey-form > p > button[type=submit]:not([name])');
  assert.match(await page.textContent('#timeline'), /家庭人口 7 人/);
  await assertFits(page, 'case page after the survey');

  // The household's 户口簿, photographed on the phone (a 1200 × 1600 JPEG drawn in the page).
  const input = page.locator('#document-file');
  assert.equal(await input.getAttribute('capture'), 'environment');
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 1200;
    canvas.height = 1600;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#e9eef4';
    ctx.fillRect(0, 0, 1200, 1600);
    ctx.fillStyle = '#222';
    ctx.font = '96px sans-serif';
    ctx.fillText('居民户口簿', 200, 800);
    return canvas.toDataURL('image/jpeg', 0.9);
  });
  await page.selectOption('#document-kind', 'hukou_booklet');
  await input.setInputFiles({ name: 'IMG_0002.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(dataUrl.split(',')[1], 'base64') });
  await clickAndLoad(page, '#document-form button[type=submit]');
  const thumb = page.locator('#document-list img.thumb').first();
  await thumb.scrollIntoViewIfNeeded();
  const size = await thumb.evaluate((img) => img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null);
  assert.deepEqual(size, [180, 240], 'the thumbnail is served and 240 px on its longer edge');
  assert.match(await page.textContent('#document-list'), /户口簿/);
  await assertFits(page, 'case page with the photo');
  await context.close();
});
