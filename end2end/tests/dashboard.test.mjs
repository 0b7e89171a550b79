// The dashboard shell: navigation is in the server's HTML before any script
// runs; after hydration the menu toggle works under the Content-Security-Policy
// (no violation reported); no console errors; the 404 page.
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
  const code = await kiln?.stop();
  assert.equal(code, 0, 'kiln exits 0 on SIGTERM');
});

test('the server-rendered HTML already has the navigation', async () => {
  const response = await fetch(`${kiln.url}/`);
  assert.equal(response.status, 200);
  const html = await response.text();
  for (const label of ['Projects', 'Runs', 'Workflows', 'Schedules', 'Admin']) {
    assert.match(html, new RegExp(`<a[^>]*href="/${label.toLowerCase()}"[^>]*>${label}</a>`), label);
  }
  assert.match(html, /\/pkg\/kiln\.[A-Za-z0-9_-]+\.css/);
  assert.match(html, /\/pkg\/kiln\.[A-Za-z0-9_-]+\.js/);
});

test('assets carry their hash, are kept a year, and travel compressed; pages are revalidated', async () => {
  const response = await fetch(`${kiln.url}/`);
  assert.match(response.headers.get('cache-control'), /no-cache/);
  const html = await response.text();
  const names = new Set([...html.matchAll(/\/pkg\/(kiln\.[A-Za-z0-9_-]+\.(?:css|js|wasm))/g)].map((m) => m[1]));
  for (const kind of ['css', 'js', 'wasm']) {
    assert.ok([...names].some((name) => name.endsWith(`.${kind}`)), `a hashed .${kind} in ${[...names]}`);
  }
  for (const name of names) {
    for (const encoding of ['br', 'gzip']) {
      const asset = await fetch(`${kiln.url}/pkg/${name}`, { headers: { 'accept-encoding': encoding } });
      assert.equal(asset.status, 200, name);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', name);
      assert.equal(asset.headers.get('content-encoding'), encoding, `${name} as ${encoding}`);
      assert.ok((await asset.arrayBuffer()).byteLength > 0);
    }
  }
  // The unhashed names are gone: a stale page cannot mix two builds.
  assert.equal((await fetch(`${kiln.url}/pkg/kiln.wasm`)).status, 404);
});

test('the dashboard hydrates and the menu toggle works', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  const cspViolations = await watchCsp(page);

  const response = await page.goto(`${kiln.url}/runs`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  assert.match(csp, /frame-ancestors 'none'/);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  // The first Tab reaches the skip link, which shows itself and leads to
  // the page's content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'skip-link');
  assert.equal(await page.locator('#skip-link').isVisible(), true);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  const toggle = page.locator('#nav-toggle');
  assert.equal(await toggle.textContent(), 'Hide menu');
  assert.equal(await page.locator('#side-nav').isVisible(), true);
  assert.equal(await page.locator('#side-nav a[aria-current="page"]').textContent(), 'Runs');

  await toggle.click();
  await page.waitForFunction(() => document.querySelector('#nav-toggle')?.textContent === 'Show menu');
  assert.equal(await page.locator('#side-nav').isVisible(), false);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');

  const css = await page.evaluate(() => getComputedStyle(document.querySelector('header')).display);
  assert.equal(css, 'flex', 'Tailwind styles are applied');

  await page.screenshot({ path: path.join(screenshots, 'dashboard.png'), fullPage: true });
  assert.deepEqual(await cspViolations(), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test('dark mode follows the operating system, or the viewer\'s choice', async () => {
  const context = await browser.newContext({ colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(`${kiln.url}/`);
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.screenshot({ path: path.join(screenshots, 'dashboard-dark.png') });
  await context.close();

  const light = await browser.newContext({ colorScheme: 'light' });
  const lightPage = await light.newPage();
  await lightPage.goto(`${kiln.url}/`);
  const lightBackground = await lightPage.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await light.close();
  assert.notEqual(background, lightBackground);

  // A choice beside "follow the system": light on a dark system, kept
  // across pages, and back to the system's.
  const chooser = await browser.newContext({ colorScheme: 'dark' });
  const page2 = await chooser.newPage();
  await page2.goto(`${kiln.url}/runs`);
  // The form posts and comes back to the same URL, which waitForURL would
  // take as reached at once: wait for the new document instead.
  const reloaded = (page) => page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame())
    .then(() => page.waitForLoadState('load'));
  await Promise.all([reloaded(page2), page2.click('#theme-light')]);
  assert.equal(page2.url(), `${kiln.url}/runs`);
  assert.equal(await page2.evaluate(() => document.documentElement.className), 'light');
  assert.equal(await page2.evaluate(() => getComputedStyle(document.body).backgroundColor), lightBackground);
  await page2.goto(`${kiln.url}/workflows`);
  assert.equal(await page2.evaluate(() => getComputedStyle(document.body).backgroundColor), lightBackground);
  await Promise.all([reloaded(page2), page2.click('#theme-system')]);
  assert.equal(page2.url(), `${kiln.url}/workflows`);
  assert.equal(await page2.evaluate(() => getComputedStyle(document.body).backgroundColor), background);
  await page2.click('#theme-dark');
  await page2.waitForFunction(() => document.documentElement.className === 'dark');
  await chooser.close();
});

test('unknown pages get the styled 404 page', async () => {
  const response = await fetch(`${kiln.url}/no/such/page`);
  assert.equal(response.status, 404);
  const html = await response.text();
  assert.match(html, /Page not found/);
  assert.match(html, /href="\/projects"/, 'the 404 page keeps the navigation');
});

test('the API page keeps the server\'s table when it hydrates, and when reached by a link', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (error) => problems.push(error.message));

  // The table is in the markup once: the hydration data does not repeat it.
  const html = await (await fetch(`${kiln.url}/docs/api`)).text();
  const rows = (html.match(/<tr class="border-b border-stone-100/g) ?? []).length;
  assert.ok(rows > 30, `operations in the markup: ${rows}`);
  assert.match(html, /slug: string/);
  const scripts = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  assert.doesNotMatch(scripts, /slug: string|\/api\/v1\/groups\/\{id\}\/move/, 'no operations in the hydration data');

  await page.goto(`${kiln.url}/docs/api`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  assert.equal(await page.locator('#operations tbody tr').count(), rows, 'hydrating keeps every row');
  await page.locator('#operations details[data-shapes] summary').first().click();
  assert.equal(await page.locator('#operations details[data-shapes]').first().getAttribute('open'), '');

  // Reached from another page by its link: the browser has no router, the
  // link loads the server's page.
  await page.goto(`${kiln.url}/runs`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  await page.locator('header a[href="/docs/api"]').click();
  await page.waitForURL(`${kiln.url}/docs/api`);
  await page.waitForSelector('#operations tbody tr');
  assert.equal(await page.locator('#operations tbody tr').count(), rows);
  assert.deepEqual(problems, []);
  await context.close();
});
