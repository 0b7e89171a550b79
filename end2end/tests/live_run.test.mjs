// A run of 200 steps followed live in a real browser: the page opens one
// event stream and nothing else while the run goes (no polling of the run
// or its steps), boxes and rows turn green as events arrive while the run
// still shows "running", the latest step change is told to screen readers,
// and the run's end reloads the page once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiCaller, startKiln } from './server.mjs';
import { launchChromium } from './browser.mjs';

const STEPS = 200;
let kiln;
let browser;

before(async () => {
  kiln = await startKiln();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  assert.equal(await kiln?.stop(), 0);
});

function wideWorkflow() {
  let source = 'tasks:\n';
  for (let i = 0; i < STEPS; i++) {
    source += `  t${String(i).padStart(3, '0')}:\n    run: sleep 0.1\n`;
  }
  return source;
}

test('a 200-step run page follows the run over one event stream, without polling', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));

  // Account, group and project through the API, with the page's cookies.
  const api = apiCaller(kiln, page.request, assert.ok);
  const creds = { username: 'lena', password: 'correct horse' };
  await api('POST', '/api/v1/auth/register', creds);
  await api('POST', '/api/v1/auth/login', creds);
  const group = await api('POST', '/api/v1/groups', { slug: 'wide' });
  const project = await api('POST', '/api/v1/projects', { slug: 'fan', group_id: group.id });
  await api('PUT', `/api/v1/projects/${project.id}/workflows/wide`, { source: wideWorkflow() });
  const run = await api('POST', `/api/v1/projects/${project.id}/workflows/wide/runs`, { params: {} });

  const requests = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  await page.goto(`${kiln.url}/runs/${run.id}`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const loaded = requests.length;

  // Live while running: some boxes are green and the run is still going.
  await page.waitForFunction(() =>
    document.querySelector('#run-state [data-state="running"]')
      && document.querySelectorAll('#dag g[data-state="success"]').length > 0, null, { timeout: 30_000 });
  const midway = await page.locator('#dag g[data-state="success"]').count();
  assert.ok(midway < STEPS, `seen midway: ${midway}`);
  // Screen readers hear the latest step change, from a polite live region.
  const news = page.locator('#step-news');
  assert.equal(await news.getAttribute('role'), 'status');
  assert.equal(await news.getAttribute('aria-live'), 'polite');
  // Told at most once a second, the latest change since the last; the run
  // (200 steps of 0.1 s on two workers) is still going meanwhile.
  await page.waitForFunction(
    () => /^t\d{3} (running|success)$/.test(document.querySelector('#step-news')?.textContent ?? ''),
    null, { timeout: 20_000 });

  await page.waitForSelector('#run-state [data-state="success"]', { timeout: 60_000 });
  assert.equal(await page.locator('#dag g[data-state="success"]').count(), STEPS);
  assert.equal(await page.locator('#steps tr[data-task] [data-state="success"]').count(), STEPS);

  const after = requests.slice(loaded);
  const streams = requests.filter((p) => p === `/api/v1/runs/${run.id}/events`);
  assert.equal(streams.length, 1, `one event stream: ${JSON.stringify(requests)}`);
  const reloads = after.filter((p) => p.startsWith('/ui/fn/'));
  assert.ok(reloads.length <= 1, `the run's end reloads once, nothing polls: ${JSON.stringify(after)}`);
  assert.ok(after.length <= 3, `requests after load: ${JSON.stringify(after)}`);
  assert.deepEqual(problems, []);
});

test('the home page and /runs show a run of another project failing, live', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  const api = apiCaller(kiln, page.request, assert.ok);
  const creds = { username: 'lena', password: 'correct horse' };
  // The first test may have made the account already.
  await page.request.fetch(`${kiln.url}/api/v1/auth/register`, {
    method: 'POST', data: creds, headers: { Origin: kiln.url },
  });
  await api('POST', '/api/v1/auth/login', creds);
  const seen = await api('POST', '/api/v1/groups', { slug: 'watched' });
  await api('POST', '/api/v1/projects', { slug: 'quiet', group_id: seen.id });
  const other = await api('POST', '/api/v1/groups', { slug: 'elsewhere' });
  const project = await api('POST', '/api/v1/projects', { slug: 'loud', group_id: other.id });
  await api('PUT', `/api/v1/projects/${project.id}/workflows/boom`, {
    source: 'tasks:\n  fail:\n    run: sleep 0.3; exit 3\n',
  });

  const home = await context.newPage();
  await home.goto(`${kiln.url}/`);
  await home.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const runs = await context.newPage();
  await runs.goto(`${kiln.url}/runs?state=failed`);
  await runs.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const run = await api('POST', `/api/v1/projects/${project.id}/workflows/boom/runs`, { params: {} });

  // No reload: the failure appears on both pages by itself.
  const failedRow = `tr[data-run="${run.id}"] [data-state="failed"]`;
  await home.waitForSelector(`#home-failures ${failedRow}`, { timeout: 20_000 });
  await runs.waitForSelector(`#all-runs ${failedRow}`, { timeout: 20_000 });
  assert.match(await home.locator(`#home-failures tr[data-run="${run.id}"]`).innerText(), /elsewhere\/loud/);
  assert.deepEqual(problems, []);
  await context.close();
});
