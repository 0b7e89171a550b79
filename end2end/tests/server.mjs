// Starts the real `kiln serve` binary on a free port against a fresh SQLite
// file, and stops it again. Shared by the browser tests; `settings` are
// extra KILN_* variables a test needs (e.g. open registration).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

export async function startKiln(settings = {}) {
  const binary = process.env.E2E_KILN_BINARY ?? path.join(root, 'target', 'debug', 'kiln');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kiln-e2e-'));
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    // Only the settings this test chooses: none leak in from the caller.
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('KILN_'))),
      KILN_SITE_DIR: path.join(root, 'target', 'site'),
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      // The latest output only: a long test logs a lot.
      output = (output + chunk.toString()).slice(-256 * 1024);
      const match = output.match(/listening on (http:\/\/[0-9.]+:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kiln exited with ${code} before listening:\n${output}`));
    });
  });
  // The port answers once the listener is bound; wait for readiness too.
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) throw new Error(`kiln at ${url} never became ready:\n${output}`);
  return {
    url,
    // The server's warnings and errors so far, for a failing test to show.
    warnings() {
      return output.split('\n').filter((line) => /\b(WARN|ERROR)\b/.test(line)).slice(-40).join('\n');
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const code = await exited;
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

// A JSON API caller riding on `request` (a page's or a context's, so it
// shares their cookies), sending the same-origin `Origin` writes need; it
// fails the test on any answer that is not a success.
export function apiCaller(kiln, request, assertOk) {
  return async (method, url, data) => {
    const response = await request.fetch(`${kiln.url}${url}`, {
      method, data, headers: { Origin: kiln.url },
    });
    assertOk(response.ok(), `${method} ${url}: ${response.status()} ${await response.text()}`);
    return response.status() === 204 ? null : response.json();
  };
}
