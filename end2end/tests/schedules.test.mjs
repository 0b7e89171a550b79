// Schedules in a real browser: the form shows an expression's next five
// instants live as it is typed (in its zone and in UTC) and the error of a
// bad one; create a schedule, pause it, run it now, and see its history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startKiln } from './server.mjs';
import { launchChromium, watchCsp } from './browser.mjs';

const screenshots = path.resolve(import.meta.dirname, '..', 'screenshots');
let kiln;
let browser;

before(async () => {
  kiln = await startKiln();
  browser = await launchChromium();
  mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  assert.equal(await kiln?.stop(), 0);
});

async function post(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.locator(selector).click()]);
  await page.waitForLoadState('load');
}

test('create a schedule with the live preview, pause it, run it now, see its history', async () => {
  const page = await (await browser.newContext()).newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  const cspViolations = await watchCsp(page);

  await page.goto(`${kiln.url}/register`);
  await page.fill('#register-username', 'sam');
  await page.fill('#register-password', 'correct horse');
  await post(page, 'form[action="/ui/register"] button[type=submit]');
  await page.fill('form[action="/ui/groups"] [name="slug"]', 'ops');
  await post(page, 'form[action="/ui/groups"] button[type=submit]');
  const projectForm = await page.locator('form[action$="/projects"]').getAttribute('action');
  await page.fill(`form[action="${projectForm}"] [name="slug"]`, 'backup');
  await post(page, `form[action="${projectForm}"] button[type=submit]`);
  await post(page, '#new-workflow');
  await page.fill('#workflow-form [name="name"]', 'dump');
  await page.fill('#workflow-source', 'tasks:\n  dump:\n    run: echo dumped\n');
  await post(page, '#workflow-form button[type=submit]');
  const project = new URL(page.url()).pathname.split('/')[2];

  await page.goto(`${kiln.url}/projects/${project}/schedules`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  // Live preview as it is typed: a bad hour names the field...
  await page.fill('#schedule-cron', '30 25 * * *');
  await page.waitForSelector('#cron-preview-error', { timeout: 10_000 });
  assert.match(await page.locator('#cron-preview-error').textContent(), /hour: 25 is outside 0–23/);
  // ...a good one lists five instants, in the zone and in UTC.
  await page.fill('#schedule-cron', '30 2 * * *');
  await page.fill('#schedule-timezone', 'Asia/Kolkata');
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('#cron-preview .cron-instant');
    return rows.length === 5 && rows[0].textContent.includes('02:30:00 IST') && rows[0].textContent.includes('T21:00:00Z');
  }, null, { timeout: 10_000 });
  await page.screenshot({ path: path.join(screenshots, 'schedule-form.png'), fullPage: true });

  await page.fill('#schedule-form [name="name"]', 'nightly dump');
  await post(page, '#schedule-form button[type=submit]');
  assert.match(new URL(page.url()).pathname, /^\/schedules\/\d+$/);
  assert.match(await page.locator('#schedule-summary').textContent(), /30 2 \* \* \* in Asia\/Kolkata/);
  assert.equal(await page.locator('#schedule-next li').count(), 5);
  assert.match(await page.locator('#schedule-next li').first().textContent(), /T21:00:00Z/);

  await post(page, '#pause-schedule');
  await page.waitForSelector('#schedule-paused');
  assert.match(await page.locator('#schedule-next').textContent(), /none while paused/);

  await post(page, '#run-schedule');
  assert.match(new URL(page.url()).pathname, /^\/runs\/\d+$/);
  await page.waitForSelector('#run-state [data-state="success"]', { timeout: 30_000 });
  await page.goBack();
  await page.reload();
  await page.waitForSelector('#firings .firing[data-outcome="fired"]');
  assert.match(await page.locator('#firings').textContent(), /run now/);

  // Every schedule across projects.
  await page.goto(`${kiln.url}/schedules`);
  assert.match(await page.locator('#schedules').textContent(), /nightly dump.*backup.*paused.*fired/s);
  await page.screenshot({ path: path.join(screenshots, 'schedules.png'), fullPage: true });

  assert.deepEqual(problems, []);
  assert.deepEqual(await cspViolations(), []);
});
