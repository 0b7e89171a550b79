// A first visit to a page in Chromium with an empty cache: every response
// the browser receives until the page has hydrated (the HTML, the styles,
// the script, the WASM and whatever WASM pieces the page loads lazily),
// with the bytes each took on the wire (compressed as served).
// Usage: node bench/first_visit.mjs URL [COOKIE_NAME=VALUE]
import { launchChromium } from '../end2end/tests/browser.mjs';

const [url, cookie] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext();
if (cookie) {
  const [name, ...rest] = cookie.split('=');
  await context.addCookies([{ name, value: rest.join('='), url }]);
}
const page = await context.newPage();
const seen = [];
page.on('requestfinished', async (request) => {
  const response = await request.response();
  const sizes = await request.sizes();
  seen.push({
    path: new URL(request.url()).pathname,
    bytes: sizes.responseBodySize + sizes.responseHeadersSize,
    encoding: response?.headers()['content-encoding'] ?? 'identity',
  });
});
await page.goto(url);
await page.waitForSelector('[data-hydrated="true"]', { timeout: 60_000 });
// Pieces a page asks for while it hydrates are done by now; give stragglers a moment.
await page.waitForTimeout(1_000);
let total = 0;
for (const { path, bytes, encoding } of seen.sort((a, b) => b.bytes - a.bytes)) {
  total += bytes;
  console.log(`  ${path.padEnd(72)} ${String(bytes).padStart(8)} bytes (${encoding})`);
}
console.log(`first visit: ${total.toLocaleString('en')} bytes in ${seen.length} responses, headers included`);
await browser.close();
