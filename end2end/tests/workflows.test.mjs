// Workflows in a real browser: write one in the editor (a broken draft comes
// back with its line and column and the line marked, nothing lost; a save
// says its version), start it from the params form, watch the graph change
// live without reloading, open the failed task's log and search it (marks,
// counts, filters, full screen), read why a task that never ran has no
// log, zoom the graph, re-run the failed task and watch it turn green, and
// find both attempts on the timeline and the first attempt's log; the
// editor's graph of the workflow and its versions, any two compared.
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

const BROKEN = `tasks:
  greet:
    run: echo hello
  report:
    needs: [greeet]
    run: echo done
`;

const WORKFLOW = `params:
  who: { type: string, default: nobody, description: Whom to greet }
tasks:
  greet:
    run: |
      printf '\\033[32mhello\\033[0m %s\\n' {{ params.who }}
      echo "name=$KILN_PARAM_WHO" >> "$KILN_OUTPUT"
  flaky:
    needs: [greet]
    run: |
      sleep 1
      if [ "$KILN_ATTEMPT" = 1 ]; then echo "needle: first try fails"; exit 3; fi
      echo "second try works"
  report:
    needs: [flaky]
    run: echo reported {{ tasks.greet.outputs.name }}
`;

test('write a workflow, run it with params, watch it live, read the failed log, re-run failed', async () => {
  const page = await (await browser.newContext()).newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  const cspViolations = await watchCsp(page);

  await page.goto(`${kiln.url}/register`);
  await page.fill('#register-username', 'wendy');
  await page.fill('#register-password', 'correct horse');
  await post(page, 'form[action="/ui/register"] button[type=submit]');
  await page.fill('form[action="/ui/groups"] [name="slug"]', 'data');
  await post(page, 'form[action="/ui/groups"] button[type=submit]');
  const projectForm = await page.locator('form[action$="/projects"]').getAttribute('action');
  await page.fill(`form[action="${projectForm}"] [name="slug"]`, 'etl');
  await post(page, `form[action="${projectForm}"] button[type=submit]`);
  assert.equal(new URL(page.url()).pathname, '/p/data/etl');

  // A broken draft: every problem at its place, and the text kept.
  await post(page, '#new-workflow');
  await page.fill('#workflow-form [name="name"]', 'nightly');
  await page.fill('#workflow-source', BROKEN);
  await post(page, '#workflow-form button[type=submit]');
  assert.match(await page.locator('#problems').textContent(), /line 5, column \d+: .*greeet/);
  assert.equal(await page.locator('#workflow-source').inputValue(), BROKEN);
  // The name typed is kept too, and the editor marks the problem's line
  // among its line numbers.
  assert.equal(await page.locator('#workflow-form [name="name"]').inputValue(), 'nightly');
  assert.equal(await page.locator('#workflow-source-gutter [data-line]').count(), 7);
  assert.deepEqual(await page.locator('#workflow-source-gutter [data-problem]').allTextContents(), ['5']);
  assert.equal(await page.locator('#workflow-source').getAttribute('aria-invalid'), 'true');

  await page.fill('#workflow-source', WORKFLOW);
  await post(page, '#workflow-form button[type=submit]');
  assert.match(new URL(page.url()).pathname, /\/projects\/\d+\/workflows\/nightly$/);
  assert.match(await page.locator('#workflow-title').textContent(), /nightly/);
  assert.equal(await page.locator('#saved-note').textContent(), 'Saved version 1.');
  assert.equal(await page.locator('#workflow-source-gutter [data-problem]').count(), 0);

  // Start it from the generated params form.
  await page.fill('#run-form [name="param.who"]', 'the browser');
  await post(page, '#run-form button[type=submit]');
  assert.match(new URL(page.url()).pathname, /^\/runs\/\d+$/);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const runUrl = page.url();

  // Live: without a reload the graph reaches its end state.
  await page.waitForSelector('#dag g[data-task="greet"][data-state="success"]', { timeout: 30_000 });
  await page.waitForSelector('#run-state [data-state="failed"]', { timeout: 30_000 });
  assert.equal(page.url(), runUrl, 'no navigation happened');
  assert.equal(await page.locator('#dag g[data-task="flaky"]').getAttribute('data-state'), 'failed');
  assert.equal(await page.locator('#dag g[data-task="report"]').getAttribute('data-state'), 'upstream_failed');
  await page.screenshot({ path: path.join(screenshots, 'run-failed.png'), fullPage: true });
  // Named for assistive technology: the graph, the live state, the search.
  assert.match(await page.locator('#dag').getAttribute('aria-label'), /3 tasks/);
  assert.equal(await page.locator('#run-state').getAttribute('aria-live'), 'polite');

  // The failed task's log, coloured and searchable.
  await page.locator('#steps tr[data-task="flaky"] a').click();
  await page.waitForSelector('#log .log-line');
  assert.match(await page.locator('#log').textContent(), /needle: first try fails/);
  assert.match(await page.locator('#log').textContent(), /exited with code 3/);
  assert.equal(await page.locator('#log-search').getAttribute('aria-label'), 'Search the log');
  // Search marks and counts; "only matching lines" filters.
  const lines = await page.locator('#log .log-line').count();
  await page.fill('#log-search', 'NEEDLE');
  await page.waitForSelector('#log mark');
  assert.equal(await page.locator('#log mark').first().textContent(), 'needle');
  assert.equal(await page.locator('#log-matches').textContent(), '1 match on 1 line');
  await page.locator('#log-search').press('Enter');
  assert.equal(await page.locator('#log-matches').textContent(), 'line 1 of 1 · 1 match on 1 line');
  assert.equal(await page.locator('#log .log-line[data-current]').count(), 1);
  assert.equal(await page.locator('#log .log-line').count(), lines, 'search alone hides nothing');
  await page.check('#log-only-matching');
  await page.waitForFunction(() => document.querySelectorAll('#log .log-line').length === 1);
  // Lines are numbered and each is a link to itself.
  assert.match(await page.locator('#log .log-line .line-no').first().getAttribute('href'), /^#L\d+$/);
  assert.match(await page.locator('#log-download').getAttribute('download'), /flaky-attempt-1\.log$/);
  await page.click('#log-full');
  assert.match(await page.locator('#log-box').getAttribute('class'), /fixed/);
  await page.locator('#log-search').press('Escape');
  assert.doesNotMatch(await page.locator('#log-box').getAttribute('class'), /fixed/);
  // A task that never ran says why instead of an empty box.
  await page.locator('#steps tr[data-task="report"] a').click();
  await page.waitForSelector('#log-empty');
  assert.match(await page.locator('#log-empty').textContent(), /a step it needs failed/);
  assert.equal(await page.locator('#dag g[data-task="report"]').getAttribute('data-selected'), 'true');
  // The graph: a legend of states, zoom inside its box, fit by default.
  assert.equal(await page.locator('#dag-legend li').count(), 8);
  assert.match(await page.locator('#dag').getAttribute('class'), /max-w-full/);
  const natural = Number(await page.locator('#dag').getAttribute('width'));
  await page.click('#dag-zoom-in');
  assert.equal(Number(await page.locator('#dag').getAttribute('width')), natural * 1.5);
  assert.doesNotMatch(await page.locator('#dag').getAttribute('class'), /max-w-full/);
  await page.click('#dag-fit');
  assert.equal(Number(await page.locator('#dag').getAttribute('width')), natural);
  await page.locator('#steps tr[data-task="greet"] a').click();
  await page.waitForSelector('#log .text-green-400');
  assert.match(await page.locator('#log .text-green-400').first().textContent(), /hello/);

  // Re-run what failed: greet keeps its success, the rest goes green live.
  await post(page, '#rerun-failed');
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  await page.waitForSelector('#run-state [data-state="success"]', { timeout: 30_000 });
  for (const task of ['greet', 'flaky', 'report']) {
    assert.equal(await page.locator(`#dag g[data-task="${task}"]`).getAttribute('data-state'), 'success', task);
  }
  assert.equal(await page.locator('#steps tr[data-task="greet"] td').nth(2).textContent(), '1');
  assert.equal(await page.locator('#steps tr[data-task="flaky"] td').nth(2).textContent(), '2');
  await page.locator('#steps tr[data-task="report"] a').click();
  await page.waitForFunction(() => /reported the browser/.test(document.querySelector('#log')?.textContent ?? ''));
  // Who started it; flaky's row has both its attempts on the timeline; the first
  // attempt's log is still there.
  assert.match(await page.locator('#run-started').textContent(), /by wendy/);
  assert.equal(await page.locator('#steps tr[data-task="flaky"] .timeline-bar').count(), 2);
  assert.deepEqual(
    await page.locator('#steps tr[data-task="flaky"] .timeline-bar').evaluateAll((bars) => bars.map((b) => b.dataset.state)),
    ['failed', 'success'],
  );
  await page.goto(`${runUrl}?step=flaky`);
  await page.waitForSelector('#log-attempts');
  await page.locator('#log-attempts a', { hasText: '1' }).click();
  await page.waitForFunction(() => /needle: first try fails/.test(document.querySelector('#log')?.textContent ?? ''));
  assert.equal(await page.locator('#log-attempts a[aria-current="page"]').textContent(), '1');
  await page.screenshot({ path: path.join(screenshots, 'run-rerun.png'), fullPage: true });

  // One step again, from its row's button (every row's button posts the
  // table's one form, naming its task): report runs a second time, the
  // others keep their attempts.
  const attempts = async () => Object.fromEntries(await Promise.all(['greet', 'flaky', 'report'].map(
    async (task) => [task, await page.locator(`#steps tr[data-task="${task}"] td`).nth(2).textContent()])));
  await page.goto(runUrl);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const before = await attempts();
  assert.match(await page.locator('#steps tr[data-task="report"] .rerun-step').getAttribute('aria-describedby'), /rerun-step-help/);
  await post(page, '#steps tr[data-task="report"] .rerun-step');
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  await page.waitForSelector('#run-state [data-state="success"]', { timeout: 30_000 });
  const wanted = String(Number(before.report) + 1);
  await page.waitForFunction((n) => document.querySelector('#steps tr[data-task="report"] td:nth-child(3)')?.textContent === n, wanted, { timeout: 30_000 });
  const after = await attempts();
  assert.deepEqual(after, { ...before, report: wanted });
  // A post that names nothing re-runs nothing (no silent "failed steps").
  const runId0 = new URL(runUrl).pathname.split('/').pop();
  const bare = await page.request.fetch(`${kiln.url}/ui/runs/${runId0}/retry`, {
    method: 'POST', form: {}, headers: { Origin: kiln.url }, maxRedirects: 0,
  });
  assert.equal(bare.status(), 303);
  await page.goto(runUrl);
  assert.deepEqual(await attempts(), after);

  // The workflow page charts both runs' outcome.
  await page.goto(`${new URL(runUrl).origin}${await page.locator('a[href*="/workflows/nightly"]').first().getAttribute('href')}`);
  assert.equal(await page.locator('#duration-chart rect').count(), 1);

  // Home: the run among the recent ones, with its project, workflow and
  // starter; /runs filters it and leads to it.
  const runId = new URL(runUrl).pathname.split('/').pop();
  await page.goto(`${kiln.url}/`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const row = page.locator(`#home-recent tr[data-run="${runId}"]`);
  assert.match(await row.textContent(), /data\/etl.*nightly.*wendy/s);
  assert.match(await row.locator('time').getAttribute('title'), /^\d{4}-\d\d-\d\dT/);
  assert.match(await page.locator('#home-running').textContent(), /Nothing is running/);
  await page.screenshot({ path: path.join(screenshots, 'home.png'), fullPage: true });
  await page.goto(`${kiln.url}/runs`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  await page.selectOption('#runs-state', 'success');
  await post(page, '#all-run-filters button[type=submit]');
  assert.match(page.url(), /state=success/);
  await Promise.all([page.waitForURL(runUrl), page.locator(`#all-runs tr[data-run="${runId}"] a[href="/runs/${runId}"]`).click()]);
  assert.deepEqual(await cspViolations(), [], 'no Content-Security-Policy violation');
  assert.deepEqual(problems, []);
});

test('on a phone the menu starts closed and no page scrolls sideways', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${kiln.url}/login`);
  await page.fill('#login-username', 'wendy');
  await page.fill('#login-password', 'correct horse');
  await post(page, 'form[action="/ui/login"] button[type=submit]');
  const runs = await (await context.request.get(`${kiln.url}/api/v1/runs`)).json();
  const run = runs.items[0];
  for (const address of ['/', '/runs', '/workflows', '/projects', '/p/data/etl', `/runs/${run.id}`, `/projects/${run.project_id}/runs`, '/docs/api', '/account']) {
    await page.goto(`${kiln.url}${address}`);
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
    assert.equal(await page.locator('#side-nav').isVisible(), false, `${address}: the menu starts closed`);
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `${address} is ${scroll} px wide on a ${width} px screen`);
  }
  await page.goto(`${kiln.url}/`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  assert.equal(await page.locator('#nav-toggle').getAttribute('aria-expanded'), 'false');
  await page.click('#nav-toggle');
  assert.equal(await page.locator('#side-nav').isVisible(), true);
  await page.screenshot({ path: path.join(screenshots, 'home-phone-menu.png') });
  await page.click('#nav-toggle');
  assert.equal(await page.locator('#side-nav').isVisible(), false);
  await page.screenshot({ path: path.join(screenshots, 'home-phone.png'), fullPage: true });
  await context.close();
});

test('Run on /workflows and on the project page starts a run in one click', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${kiln.url}/login`);
  await page.fill('#login-username', 'wendy');
  await page.fill('#login-password', 'correct horse');
  await post(page, 'form[action="/ui/login"] button[type=submit]');
  const before = (await (await context.request.get(`${kiln.url}/api/v1/runs`)).json()).items.length;
  await page.goto(`${kiln.url}/workflows`);
  const row = page.locator('#workflows tr[data-workflow="nightly"]');
  assert.match(await row.textContent(), /data\/etl/);
  assert.equal(await row.locator('.run-now').getAttribute('aria-label'), 'Run nightly');
  await post(page, '#workflows tr[data-workflow="nightly"] .run-now');
  assert.match(new URL(page.url()).pathname, /^\/runs\/\d+$/);
  // The project page lists its workflows first, with the last run and Run.
  await page.goto(`${kiln.url}/p/data/etl`);
  assert.equal(await page.locator('#tab-overview').textContent(), 'Workflows');
  await page.waitForSelector('#workflows tr[data-workflow="nightly"] [data-state]');
  await post(page, '#workflows tr[data-workflow="nightly"] .run-now');
  assert.match(new URL(page.url()).pathname, /^\/runs\/\d+$/);
  const after = (await (await context.request.get(`${kiln.url}/api/v1/runs`)).json()).items.length;
  assert.equal(after, before + 2);
  await context.close();
});

test('the editor lists the saved versions and compares any two', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${kiln.url}/login`);
  await page.fill('#login-username', 'wendy');
  await page.fill('#login-password', 'correct horse');
  await post(page, 'form[action="/ui/login"] button[type=submit]');
  const project = (await (await context.request.get(`${kiln.url}/api/v1/runs`)).json()).items[0].project_id;
  const editor = `${kiln.url}/projects/${project}/workflows/versioned`;
  // Three versions through the API, each a small edit of the one before.
  const v1 = 'tasks:\n  a:\n    run: echo one\n  b:\n    needs: [a]\n    run: echo two\n';
  const v2 = v1.replace('echo two', 'echo TWO');
  const v3 = `${v2}  c:\n    run: echo three\n`;
  for (const source of [v1, v2, v3]) {
    const saved = await context.request.put(`${kiln.url}/api/v1/projects/${project}/workflows/versioned`, {
      data: { source }, headers: { origin: kiln.url },
    });
    assert.ok(saved.ok(), await saved.text());
  }
  await page.goto(editor);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  assert.deepEqual(await page.locator('#versions tr[data-version]').evaluateAll((rows) => rows.map((r) => r.dataset.version)), ['3', '2', '1']);
  assert.match(await page.locator('#versions tr[data-version="3"]').textContent(), /wendy/);
  assert.equal(await page.locator('#versions tr[data-version="1"] a').count(), 0, 'the first version has nothing before it');
  // The graph of the workflow, before any run, each dependency spelled out.
  assert.deepEqual(await page.locator('#draft-graph g[data-task]').evaluateAll((gs) => gs.map((g) => g.dataset.task)), ['a', 'b', 'c']);
  assert.equal(await page.locator('#draft-graph g[data-task="b"] title').textContent(), 'b: needs a');
  assert.equal(await page.locator('#draft-graph > g > path').count(), 1);
  // Typing redraws it (unsaved); a text that does not load keeps the last graph, said so.
  await page.fill('#workflow-source', `${v3}  d:\n    needs: [c]\n    run: echo four\n`);
  await page.waitForSelector('#draft-graph g[data-task="d"]');
  assert.equal(await page.locator('#draft-graph g[data-task="d"] title').textContent(), 'd: needs c');
  await page.fill('#workflow-source', `${v3}  d:\n    needs: [nope]\n`);
  await page.waitForFunction(() => /does not load yet/.test(document.querySelector('#draft-graph-stale')?.textContent ?? ''));
  assert.equal(await page.locator('#draft-graph g[data-task="d"]').count(), 1);

  // A version's changes from the one before: the edited line, both numbers.
  await page.locator('#versions tr[data-version="2"] a').click();
  await page.waitForURL(/from=1&to=2/);
  await page.waitForSelector('#diff');
  assert.equal(await page.locator('#changes').textContent(), 'Changes from version 1 to version 2');
  assert.deepEqual(await page.locator('#diff tr[data-change="-"] td:last-child').allTextContents(), ['-     run: echo two']);
  assert.deepEqual(await page.locator('#diff tr[data-change="+"] td:last-child').allTextContents(), ['+     run: echo TWO']);
  assert.deepEqual(await page.locator('#diff tr[data-change="+"] td').evaluateAll((cells) => cells.slice(0, 2).map((c) => c.textContent)), ['', '6']);

  // Any two, from the form (a GET: it works before the WASM, too).
  await page.selectOption('#compare-form [name="from"]', '1');
  await page.selectOption('#compare-form [name="to"]', '3');
  await post(page, '#compare-form button[type=submit]');
  assert.match(page.url(), /from=1&to=3/);
  assert.equal(await page.locator('#diff tr[data-change="+"]').count(), 3);
  assert.equal(await page.locator('#diff tr[data-change="-"]').count(), 1);
  await page.screenshot({ path: path.join(screenshots, 'workflow-versions.png'), fullPage: true });

  // Versions that are not there, or not numbers, compare nothing; the editor stays.
  for (const query of ['from=0&to=99', 'from=-1&to=2', 'from=x&to=2', 'from=2&to=2']) {
    const response = await page.goto(`${editor}?${query}`);
    assert.equal(response.status(), 200, query);
    assert.equal(await page.locator('#workflow-source').count(), 1, query);
    const expected = query === 'from=2&to=2' ? 1 : 0;
    assert.equal(await page.locator('#changes').count(), expected, query);
  }
  assert.match(await page.locator('section[aria-labelledby="versions-title"]').textContent(), /No differences/);
  assert.deepEqual(problems, []);
  await context.close();
});
