// Every page, signed in and out, at a desktop width (1280×800) and a
// phone's (390×844): axe-core finds no serious or critical violation, the
// page is no wider than the screen (tables and graphs scroll inside their
// own boxes), and a screenshot of each lands in end2end/screenshots/.
// axe is injected as a script, so these contexts bypass the pages'
// Content-Security-Policy (the other tests check the policy itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { apiCaller, startKiln } from './server.mjs';
import { launchChromium } from './browser.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const screenshots = path.resolve(import.meta.dirname, '..', 'screenshots');
const WIDTHS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
let kiln;
let browser;
let ids;

before(async () => {
  kiln = await startKiln();
  browser = await launchChromium();
  mkdirSync(screenshots, { recursive: true });
  const context = await browser.newContext();
  const api = apiCaller(kiln, context.request, assert.ok);
  const creds = { username: 'ada', password: 'correct horse' };
  await api('POST', '/api/v1/auth/register', creds);
  await api('POST', '/api/v1/auth/login', creds);
  const group = await api('POST', '/api/v1/groups', { slug: 'lab' });
  const project = await api('POST', '/api/v1/projects', { slug: 'engine', group_id: group.id });
  await api('PUT', `/api/v1/projects/${project.id}/workflows/nightly_build_of_the_whole_thing`, {
    source: 'params:\n  who:\n    type: string\n    default: world\ntasks:\n  compile:\n    run: echo "hello {{ params.who }}"\n  test_the_long_named_suite:\n    needs: [compile]\n    run: exit 2\n  publish:\n    needs: [test_the_long_named_suite]\n    run: echo never\n',
  });
  const run = await api('POST', `/api/v1/projects/${project.id}/workflows/nightly_build_of_the_whole_thing/runs`, { params: {} });
  for (let i = 0; i < 100; i++) {
    const now = await api('GET', `/api/v1/runs/${run.id}`);
    if (now.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await context.close();
  ids = { project: project.id, run: run.id };
});

after(async () => {
  await browser?.close();
  assert.equal(await kiln?.stop(), 0);
});

function signedInPages() {
  const { project, run } = ids;
  return [
    ['home', '/'],
    ['runs', '/runs'],
    ['workflows', '/workflows'],
    ['projects', '/projects'],
    ['schedules', '/schedules'],
    ['admin', '/admin'],
    ['account', '/account'],
    ['api-docs', '/docs/api'],
    ['group', '/g/lab'],
    ['project', '/p/lab/engine'],
    ['project-settings', '/p/lab/engine/-/settings'],
    ['project-runs', `/projects/${project}/runs`],
    ['project-schedules', `/projects/${project}/schedules`],
    ['project-pipelines', `/projects/${project}/pipelines`],
    ['workflow-editor', `/projects/${project}/workflows/nightly_build_of_the_whole_thing`],
    ['new-workflow', `/projects/${project}/new-workflow`],
    ['run', `/runs/${run}`],
    ['run-log', `/runs/${run}?step=test_the_long_named_suite`],
    ['run-skipped-log', `/runs/${run}?step=publish`],
    ['not-found', '/no/such/page'],
  ];
}

const anonymousPages = [
  ['anon-home', '/'],
  ['login', '/login'],
  ['register', '/register'],
  ['anon-runs', '/runs'],
];

async function check(page, name, url, width) {
  await page.goto(`${kiln.url}${url}`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  await page.addScriptTag({ path: axePath });
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  const wide = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    screen: window.innerWidth,
  }));
  await page.screenshot({ path: path.join(screenshots, `${name}-${width.name}.png`), fullPage: true });
  return { found, wide };
}

for (const width of WIDTHS) {
  test(`every page passes axe and fits the screen at ${width.width} px`, async () => {
    const problems = [];
    const signedIn = await browser.newContext({ bypassCSP: true, viewport: width });
    const page = await signedIn.newPage();
    await page.request.post(`${kiln.url}/api/v1/auth/login`, {
      data: { username: 'ada', password: 'correct horse' }, headers: { Origin: kiln.url },
    });
    for (const [name, url] of signedInPages()) {
      const { found, wide } = await check(page, name, url, width);
      for (const f of found) problems.push(`${url}: ${f}`);
      if (wide.page > wide.screen) problems.push(`${url}: ${wide.page} px wide on a ${wide.screen} px screen`);
    }
    await signedIn.close();
    const anonymous = await browser.newContext({ bypassCSP: true, viewport: width });
    const anonPage = await anonymous.newPage();
    for (const [name, url] of anonymousPages) {
      const { found, wide } = await check(anonPage, name, url, width);
      for (const f of found) problems.push(`${url} (signed out): ${f}`);
      if (wide.page > wide.screen) problems.push(`${url} (signed out): ${wide.page} px wide on a ${wide.screen} px screen`);
    }
    await anonymous.close();
    assert.deepEqual(problems, []);
  });
}
