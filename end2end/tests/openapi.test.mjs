// The API document as real clients use it: `/api/v1/openapi.json` from a
// running server passes the OpenAPI 3.1 validator (openapi-spec-validator),
// a Python client generated from it (openapi-python-client) builds, and
// that client registers, signs in, makes a token, a group, a project and a
// workflow, and starts a run that succeeds. The tools live in the
// virtualenv `.ci/setup` makes (end2end/.venv).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKiln } from './server.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const venv = path.join(root, 'end2end', '.venv', 'bin');
let kiln;
let work;

before(async () => {
  kiln = await startKiln();
  work = mkdtempSync(path.join(tmpdir(), 'kiln-openapi-'));
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  assert.equal(await kiln?.stop(), 0);
});

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 180_000, ...options });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ?? ''}`;
  return { status: result.status, output };
}

async function fetchDocument() {
  const response = await fetch(`${kiln.url}/api/v1/openapi.json`);
  assert.equal(response.status, 200);
  const file = path.join(work, 'openapi.json');
  writeFileSync(file, await response.text());
  return file;
}

test('the document validates against the OpenAPI 3.1 schema', async () => {
  const file = await fetchDocument();
  const { status, output } = run(path.join(venv, 'openapi-spec-validator'), [file]);
  assert.equal(status, 0, output);
  assert.match(output, /OK/);
});

test('a client generated from the document registers, makes a project and runs a workflow', async () => {
  const file = await fetchDocument();
  const out = path.join(work, 'kiln_client');
  const generated = run(path.join(venv, 'openapi-python-client'), [
    'generate', '--path', file, '--output-path', out, '--meta', 'none', '--overwrite',
    '--config', path.join(root, 'end2end', 'openapi', 'client-config.yaml'),
  ]);
  assert.equal(generated.status, 0, generated.output);
  assert.doesNotMatch(generated.output, /Warning|Unable to/i, generated.output);
  const flow = run(path.join(venv, 'python'), [path.join(root, 'end2end', 'openapi', 'client_flow.py'), kiln.url], {
    env: { ...process.env, PYTHONPATH: work },
  });
  assert.equal(flow.status, 0, flow.output);
  assert.match(flow.output, /run \d+ success/);
});
