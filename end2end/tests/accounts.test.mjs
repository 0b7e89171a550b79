// Accounts in a real browser: register, build a group > subgroup > project
// through the forms, add a second user as viewer; that user (another browser
// context) sees the project without edit controls, a forged cross-site POST
// is refused and a same-site one by a viewer changes nothing; log out.
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
  // Two people sign up here; after the first (the admin), registration is by
  // invitation unless opened.
  kiln = await startKiln({ KILN_REGISTRATION: 'open' });
  browser = await launchChromium();
  mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  assert.equal(await kiln?.stop(), 0);
});

async function register(page, username) {
  await page.goto(`${kiln.url}/register`);
  await page.fill('#register-username', username);
  await page.fill('#register-password', 'correct horse');
  await Promise.all([page.waitForURL(`${kiln.url}/projects`), page.click('form[action="/ui/register"] button[type=submit]')]);
  assert.equal(await page.locator('#user-menu').textContent(), username);
}

async function submit(page, action, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const input = page.locator(`form[action="${action}"] [name="${name}"]`);
    if (await input.evaluate((el) => el.tagName) === 'SELECT') await input.selectOption(value);
    else await input.fill(value);
  }
  await Promise.all([page.waitForLoadState('load'), page.locator(`form[action="${action}"] button[type=submit]`).click()]);
  await page.waitForLoadState('load');
}

test('owner builds the tree and shares a project; a viewer sees but cannot change it', async () => {
  const owner = await (await browser.newContext()).newPage();
  const problems = [];
  owner.on('pageerror', (error) => problems.push(error.message));
  const cspViolations = await watchCsp(owner);
  await register(owner, 'alice');

  // A field error shows beside its field, and nothing is created.
  await submit(owner, '/ui/groups', { slug: 'Not A Slug' });
  const error = owner.locator('.field-error[data-field="slug"]');
  assert.match(await error.textContent(), /lower-case/);

  await submit(owner, '/ui/groups', { slug: 'platform', name: 'Platform' });
  assert.equal(new URL(owner.url()).pathname, '/g/platform');
  assert.equal(await owner.locator('#node-title').textContent(), 'Platform');
  const groupActions = await owner.locator('form[action$="/groups"]').getAttribute('action');
  await submit(owner, groupActions, { slug: 'backend', name: 'Backend' });
  assert.equal(new URL(owner.url()).pathname, '/g/platform/backend');
  assert.match(await owner.locator('nav[aria-label="Breadcrumb"]').textContent(), /Platform.*Backend/s);
  const projectAction = await owner.locator('form[action$="/projects"]').getAttribute('action');
  await submit(owner, projectAction, { slug: 'api', name: 'API' });
  assert.equal(new URL(owner.url()).pathname, '/p/platform/backend/api');
  // Workflows first; members, settings and delete on their own tab.
  assert.equal(await owner.locator('#tab-overview').getAttribute('aria-current'), 'page');
  assert.equal(await owner.locator('form[action$="/members"]').count(), 0);
  await Promise.all([owner.waitForURL(`${kiln.url}/p/platform/backend/api/-/settings`), owner.click('#tab-settings')]);
  assert.equal(await owner.locator('#tab-settings').getAttribute('aria-current'), 'page');
  const projectId = projectAction && (await owner.locator('form[action$="/members"]').getAttribute('action')).split('/')[3];

  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await register(viewer, 'bob');

  await submit(owner, `/ui/nodes/${projectId}/members`, { username: 'bob', role: 'viewer' });
  assert.equal(new URL(owner.url()).pathname, '/p/platform/backend/api/-/settings');
  assert.match(await owner.locator('#members').textContent(), /bob\s*viewer/);
  await owner.screenshot({ path: path.join(screenshots, 'project-owner.png'), fullPage: true });

  // The viewer sees the project, read-only.
  await viewer.goto(`${kiln.url}/p/platform/backend/api`);
  await viewer.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  assert.equal(await viewer.locator('#node-title').textContent(), 'API');
  assert.equal(await viewer.locator('#node-role').textContent(), 'your role: viewer');
  await viewer.goto(`${kiln.url}/p/platform/backend/api/-/settings`);
  assert.match(await viewer.locator('#members').textContent(), /alice\s*owner/);
  for (const control of ['settings', 'members', 'delete']) {
    assert.equal(await viewer.locator(`form[action="/ui/nodes/${projectId}/${control}"]`).count(), 0, control);
  }
  await viewer.screenshot({ path: path.join(screenshots, 'project-viewer.png'), fullPage: true });

  // A cross-site forgery riding on the viewer's cookie is refused outright...
  const forged = await viewerContext.request.post(`${kiln.url}/ui/nodes/${projectId}/settings`, {
    headers: { Origin: 'http://evil.example' },
    form: { name: 'pwned' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  const forgedApi = await viewerContext.request.patch(`${kiln.url}/api/v1/projects/${projectId}`, {
    headers: { Origin: 'http://evil.example' },
    data: { name: 'pwned' },
  });
  assert.equal(forgedApi.status(), 403);
  // ...and the viewer's own same-site attempt is turned down by the role check.
  const own = await viewerContext.request.post(`${kiln.url}/ui/nodes/${projectId}/settings`, {
    headers: { Origin: kiln.url, Referer: `${kiln.url}/p/platform/backend/api` },
    form: { name: 'mine now' },
    maxRedirects: 0,
  });
  assert.equal(own.status(), 303);
  assert.match(decodeURIComponent(own.headers().location.replace(/\+/g, " ")), /a viewer may not/);
  await owner.reload();
  assert.equal(await owner.locator('#node-title').textContent(), 'API', 'unchanged');

  // Log out: the session is gone.
  await Promise.all([viewer.waitForURL(`${kiln.url}/login`), viewer.click('#sign-out')]);
  await viewer.goto(`${kiln.url}/account`);
  assert.match(await viewer.locator('main').textContent(), /Sign in to see this page/);
  assert.deepEqual(await cspViolations(), [], 'no Content-Security-Policy violation');
  assert.deepEqual(problems, []);
});

test('forms work without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${kiln.url}/login`);
  await page.fill('#login-username', 'alice');
  await page.fill('#login-password', 'wrong password');
  await Promise.all([page.waitForURL(/\/login\?/), page.click('form[action="/ui/login"] button[type=submit]')]);
  assert.match(await page.locator('[role=alert]').textContent(), /invalid username or password/);
  assert.equal(await page.locator('#login-username').inputValue(), 'alice', 'what was typed stays');
  await page.fill('#login-password', 'correct horse');
  await Promise.all([page.waitForURL(`${kiln.url}/projects`), page.click('form[action="/ui/login"] button[type=submit]')]);
  assert.match(await page.locator('main').textContent(), /platform\/backend\/api/);
  await page.goto(`${kiln.url}/account`);
  await submit(page, '/ui/account/tokens', { name: 'ci', scope: 'read' });
  const secret = await page.locator('#new-token').textContent();
  assert.match(secret, /^kiln_[A-Za-z0-9]{40}$/);
  const me = await fetch(`${kiln.url}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal((await me.json()).username, 'alice');
  await page.reload();
  assert.equal(await page.locator('#new-token').count(), 0, 'the secret is shown once');
  await page.goto(`${kiln.url}/admin`);
  await submit(page, '/ui/admin/users', { username: 'carol', password: 'correct horse' });
  assert.match(await page.locator('#users').textContent(), /alice[\s\S]*bob[\s\S]*carol/);
  await page.goto(`${kiln.url}/docs/api`);
  assert.match(await page.locator('#operations').textContent(), /\/api\/v1\/groups\/\{id\}\/move/);
  // Each operation with a body shows its request and response shapes and
  // an example, folded under its summary.
  const createProject = page.locator('#operations tr', { hasText: 'POST/api/v1/projects' }).first();
  await createProject.locator('details[data-shapes] summary').click();
  const shapes = await createProject.locator('details[data-shapes]').textContent();
  assert.match(shapes, /Request body[\s\S]*slug: string[\s\S]*Response[\s\S]*Example[\s\S]*"slug"/);
  await context.close();
});

test('deleting a project asks for its full path typed out', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${kiln.url}/login`);
  await page.fill('#login-username', 'alice');
  await page.fill('#login-password', 'correct horse');
  await Promise.all([page.waitForURL(`${kiln.url}/projects`), page.click('form[action="/ui/login"] button[type=submit]')]);
  await page.goto(`${kiln.url}/g/platform`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  await submit(page, await page.locator('form[action$="/projects"]').getAttribute('action'), { slug: 'scratch' });
  assert.equal(new URL(page.url()).pathname, '/p/platform/scratch');
  await page.goto(`${kiln.url}/p/platform/scratch/-/settings`);
  assert.equal(await page.locator('#delete-path').textContent(), 'platform/scratch');
  const action = await page.locator('#delete-node').evaluate((b) => b.form.getAttribute('action'));
  // The slug alone, or nothing, is not enough: the project stays.
  await submit(page, action, { confirm: 'scratch' });
  assert.equal(new URL(page.url()).pathname, '/p/platform/scratch/-/settings');
  assert.match(await page.locator('.field-error[data-field="confirm"]').textContent(), /type the full path, platform\/scratch, to delete it/);
  // The field names its message, for screen readers.
  assert.equal(await page.locator('#delete-confirm').getAttribute('aria-describedby'), 'delete-confirm-error');
  assert.equal(await page.locator('#delete-confirm').getAttribute('aria-invalid'), 'true');
  const bare = await context.request.post(`${kiln.url}${action}`, {
    headers: { Origin: kiln.url, Referer: `${kiln.url}/p/platform/scratch` },
    form: {},
    maxRedirects: 0,
  });
  assert.equal(bare.status(), 303);
  assert.equal((await fetch(`${kiln.url}/p/platform/scratch`, { headers: { Cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ') } })).status, 200);
  await submit(page, action, { confirm: 'platform/scratch' });
  assert.equal(new URL(page.url()).pathname, '/projects');
  assert.doesNotMatch(await page.locator('main').textContent(), /platform\/scratch/);
  await context.close();
});
