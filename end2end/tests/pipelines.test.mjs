// Pipelines in a real browser, against a real git repository: link it on the
// project's pipelines page and see the hook URL, secret and host settings;
// a dry run says which pipelines and steps a change would start and why the
// others would not; a pipeline started by hand at a tag shows the step its
// when: left out; a signed Gitea push starts pipeline a and a failed run
// for the file that does not load, whose page lists each error with its
// line; the Deliveries page shows what the push decided and replays it; a
// pull request from a fork shows the approval banner, and approving works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKiln } from './server.mjs';
import { launchChromium, watchCsp } from './browser.mjs';

const screenshots = path.resolve(import.meta.dirname, '..', 'screenshots');
let kiln;
let browser;
let repoRoot;

before(async () => {
  kiln = await startKiln({ KILN_ALLOW_LOCAL_REPOSITORIES: 'true' });
  browser = await launchChromium();
  mkdirSync(screenshots, { recursive: true });
  repoRoot = mkdtempSync(path.join(tmpdir(), 'kiln-e2e-repo-'));
});

after(async () => {
  await browser?.close();
  assert.equal(await kiln?.stop(), 0);
  rmSync(repoRoot, { recursive: true, force: true });
});

function git(dir, ...args) {
  return execFileSync('git', ['-c', 'user.name=Tess', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', '-C', dir, ...args], {
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  }).toString().trim();
}

function commit(dir, files, message) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

const service = (name) =>
  `when:\n  event: [push, pull_request, manual]\n  paths:\n    include: ['services/${name}/**']\nsteps:\n  - name: test\n    run: echo tested ${name}\n  - name: deploy\n    run: echo deployed ${name}\n    when: { branch: main }\n`;

async function post(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.locator(selector).click()]);
  await page.waitForLoadState('load');
}

async function deliver(project, secret, event, id, payload) {
  const body = JSON.stringify(payload);
  const response = await fetch(`${kiln.url}/hooks/gitea/${project}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': event,
      'x-gitea-delivery': id,
      'x-gitea-signature': createHmac('sha256', secret).update(body).digest('hex'),
    },
    body,
  });
  const answer = await response.json();
  assert.equal(response.status, 202, JSON.stringify(answer));
  return answer;
}

test('link a repository, dry-run a change, see and replay deliveries, approve a fork', async () => {
  const dir = path.join(repoRoot, 'monorepo');
  mkdirSync(dir);
  git(dir, 'init', '-q');
  const first = commit(dir, {
    '.kiln/a.yml': service('a'),
    '.kiln/b.yml': service('b'),
    'services/a/main.rs': 'a0',
    'services/b/main.rs': 'b0',
  }, 'two services');
  const second = commit(dir, {
    'services/a/main.rs': 'a1',
    '.kiln/bad.yml': 'steps:\n  - name: x\n    run: [not, a, string]\n',
  }, 'touch a, add a broken pipeline');

  const page = await (await browser.newContext()).newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  const cspViolations = await watchCsp(page);

  await page.goto(`${kiln.url}/register`);
  await page.fill('#register-username', 'sam');
  await page.fill('#register-password', 'correct horse');
  await post(page, 'form[action="/ui/register"] button[type=submit]');
  await page.fill('form[action="/ui/groups"] [name="slug"]', 'web');
  await post(page, 'form[action="/ui/groups"] button[type=submit]');
  const projectForm = await page.locator('form[action$="/projects"]').getAttribute('action');
  await page.fill(`form[action="${projectForm}"] [name="slug"]`, 'shop');
  await post(page, `form[action="${projectForm}"] button[type=submit]`);
  await post(page, '#project-pipelines');
  const project = new URL(page.url()).pathname.split('/')[2];
  assert.match(new URL(page.url()).pathname, /^\/projects\/\d+\/pipelines$/);

  // Link the repository; the page shows where the host sends webhooks.
  await page.fill('#repository-url', dir);
  await page.selectOption('#repository-provider-choice', 'gitea');
  await post(page, 'form[action$="/repository"] button[type=submit]');
  assert.equal(await page.locator('#hook-url').textContent(), `${kiln.url}/hooks/gitea/${project}`);
  const secret = (await page.locator('#hook-secret').textContent()).trim();
  assert.ok(secret.length >= 32, secret);
  assert.match(await page.locator('#host-settings').textContent(), /application\/json/);

  // A bad commit id is refused with its reason, and nothing is lost.
  await page.selectOption('#dry-run-event', 'push');
  await page.fill('#dry-run-branch', 'main');
  await page.fill('#dry-run-after', 'not-a-commit');
  await post(page, '#dry-run button[type=submit]');
  assert.match(await page.locator('#dry-run-error').textContent(), /after: a commit id is 40 or 64 hex digits/);
  assert.equal(await page.locator('#dry-run-branch').inputValue(), 'main');

  // Dry run: a change to services/a starts a (not its deploy on a branch),
  // leaves b out by its paths, and lists the broken file's errors.
  await page.fill('#dry-run-after', second);
  await page.fill('#dry-run-branch', 'topic');
  await page.fill('#dry-run-paths', 'services/a/main.rs');
  await post(page, '#dry-run button[type=submit]');
  const answer = page.locator('#dry-run-answer');
  await answer.waitFor();
  assert.equal(await answer.locator('li[data-pipeline="a"]').getAttribute('data-starts'), 'true');
  assert.equal(await answer.locator('li[data-pipeline="a"] li[data-step="deploy"]').getAttribute('data-starts'), 'false');
  assert.match(await answer.locator('li[data-pipeline="b"]').textContent(), /left out.*paths/s);
  assert.match(await answer.locator('li[data-pipeline="bad"]').textContent(), /line \d+, column \d+/);
  await page.screenshot({ path: path.join(screenshots, 'pipelines-dry-run.png'), fullPage: true });

  // A signed push: pipeline a runs, bad.yml gives a failed run with errors.
  const pushed = await deliver(project, secret, 'push', 'push-1', {
    ref: 'refs/heads/main', before: first, after: second,
    head_commit: { id: second, message: 'touch a <b>bold</b>', author: { username: 'ann' } },
  });
  assert.equal(pushed.runs.length, 2, JSON.stringify(pushed));
  await page.goto(`${kiln.url}/projects/${project}/deliveries`);
  const delivery = page.locator('#deliveries li[data-delivery="push-1"]');
  assert.match(await delivery.textContent(), /push.*of 3 pipelines match.*2 run\(s\) started/s);
  assert.match(await delivery.locator('li[data-pipeline="b"]').textContent(), /left out \(paths\)/);
  const badRun = await delivery.locator('li[data-pipeline="bad"] a').getAttribute('href');

  // Replay: a new delivery, naming the one it replays and who did it.
  await post(page, '#deliveries li[data-delivery="push-1"] button.replay');
  assert.match(new URL(page.url()).pathname, /\/deliveries$/);
  assert.equal(await page.locator('#deliveries > li').count(), 2);
  assert.match(await page.locator('#deliveries > li').first().textContent(), /replay of push-1 by sam/);
  await page.screenshot({ path: path.join(screenshots, 'deliveries.png'), fullPage: true });

  // The broken file's run lists its errors.
  await page.goto(`${kiln.url}${badRun}`);
  await page.waitForSelector('#pipeline-errors');
  assert.match(await page.locator('#pipeline-errors').textContent(), /does not load/);
  assert.match(await page.locator('#pipeline-errors li').first().textContent(), /line \d+, column \d+/);

  // The pipelines page shows a's last run on main.
  await page.goto(`${kiln.url}/projects/${project}/pipelines`);
  assert.equal(await page.locator('#pipeline-statuses tr[data-pipeline="a"][data-ref="main"]').count(), 1);

  // Run a pipeline by hand at a tag: its deploy (main only) shows as left out.
  git(dir, 'tag', 'v1');
  await page.fill('#run-pipeline-name', 'ghost');
  await post(page, '#run-pipeline button[type=submit]');
  assert.match(await page.locator('#run-pipeline [role=alert]').textContent(), /not found/);
  await page.fill('#run-pipeline-name', 'a');
  await page.fill('#run-pipeline-tag', 'v1');
  await post(page, '#run-pipeline button[type=submit]');
  assert.match(new URL(page.url()).pathname, /^\/runs\/\d+$/);
  await page.waitForSelector('#steps tr[data-task="deploy"][data-left-out="true"]');
  assert.match(await page.locator('#steps tr[data-task="deploy"]').textContent(), /left out by when: .*branch/);

  // A pull request from a fork: its run page offers the approval.
  git(dir, 'checkout', '-q', '-b', 'contribution');
  rmSync(path.join(dir, '.kiln', 'bad.yml'));
  const head = commit(dir, { 'services/b/main.rs': 'b1 from a fork' }, 'fork change');
  git(dir, 'checkout', '-q', 'main');
  git(dir, 'update-ref', 'refs/pull/1/head', head);
  git(dir, 'branch', '-q', '-D', 'contribution');
  const opened = await deliver(project, secret, 'pull_request', 'pr-1', {
    action: 'opened', number: 1,
    pull_request: {
      number: 1, title: 'Change b', user: { login: 'mallory' },
      head: { ref: 'contribution', sha: head, repo: { id: 2, full_name: 'mallory/shop' } },
      base: { ref: 'main', sha: second, repo: { id: 1, full_name: 'web/shop' } },
    },
  });
  assert.equal(opened.runs.length, 1, JSON.stringify(opened));
  await page.goto(`${kiln.url}/runs/${opened.runs[0]}`);
  await page.waitForSelector('#fork-approval');
  assert.match(await page.locator('#fork-approval').textContent(), /from a fork: its steps get none of the project's secrets/);
  await page.screenshot({ path: path.join(screenshots, 'fork-approval.png'), fullPage: true });
  await post(page, '#approve-run');
  await page.waitForSelector('#fork-approval');
  assert.match(await page.locator('#fork-approval').textContent(), /approved by sam/);
  assert.equal(await page.locator('#approve-run').count(), 0);

  assert.deepEqual(problems, []);
  assert.deepEqual(await cspViolations(), []);
});
