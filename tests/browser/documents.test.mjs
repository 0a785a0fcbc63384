// 材料 (D4, issue 15 item 3) at 390 px: on a case page the town reviewer picks the signed
// 授权书 as a phone photo, uploads it, and sees its thumbnail; 需上传 goes away; the page is
// never wider than the phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAll, stopAll, login, screenshots, clickAndLoad } from './harness.mjs';

let server;
let browser;
before(async () => ({ server, browser } = await startAll()));
after(() => stopAll({ server, browser }));

const PHONE = { width: 390, height: 844 };

async function assertFits(page, what) {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

test('d4_a_photo_uploaded_on_a_phone_shows_as_a_thumbnail_on_the_case_page', async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await login(page, server.base, 'bachuan');
  await page.goto(`${server.base}/cases`);
  const hrefs = await page.$$eval('main a', (links) => links.map((link) => link.getAttribute('href')));
  // An application (its 授权书 is required): the first case whose page asks for one.
  let casePath;
  for (const href of hrefs.filter((h) => h && /^\/cases\/\d+$/.test(h))) {
    await page.goto(server.base + href);
    if (await page.locator('#documents-missing').count() > 0) {
      casePath = href;
      break;
    }
  }
  assert.ok(casePath, 'a case of the demo asks for the signed authorisation');
  assert.match(await page.textContent('#documents-missing'), /需上传：签字的授权书/);
  await assertFits(page, 'case page before the upload');
  const input = page.locator('#document-file');
  assert.equal(await input.getAttribute('capture'), 'environment');
  assert.equal(await input.getAttribute('accept'), 'image/*,application/pdf');

  // A photo as the camera gives it (drawn in the page, 1600 × 1200 JPEG).
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 1600;
    canvas.height = 1200;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#f4f1e8';
    ctx.fillRect(0, 0, 1600, 1200);
    ctx.fillStyle = '#222';
    ctx.font = '96px sans-serif';
    ctx.fillText('授权书 签字', 200, 600);
    return canvas.toDataURL('image/jpeg', 0.9);
  });
  const buffer = Buffer.from(dataUrl.split(',')[1], 'base64');
  await page.selectOption('#document-kind', 'authorisation');
  await input.setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer });
  await clickAndLoad(page, '#document-form button[type=submit]');
  assert.equal(new URL(page.url()).pathname, casePath);

  assert.equal(await page.locator('#documents-missing').count(), 0, '需上传 is gone');
  const thumb = page.locator('#document-list img.thumb').first();
  await thumb.scrollIntoViewIfNeeded();
  const loaded = await thumb.evaluate((img) => img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null);
  assert.deepEqual(loaded, [240, 180], 'the thumbnail is served and 240 px on its longer edge');
  assert.match(await page.textContent('#document-list'), /签字的授权书/);
  await assertFits(page, 'case page with a document');
  await page.screenshot({ path: join(screenshots, 'phone-case-documents.png'), fullPage: true });
  await context.close();
});
