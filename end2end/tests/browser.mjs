// Launches Debian's Chromium through playwright-core (Playwright's own
// browser download does not work on these machines).
import { chromium } from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// Records Content-Security-Policy violations on `page` (the DOM event and
// the console's report), for tests to assert there were none.
export async function watchCsp(page) {
  const seen = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) seen.push(msg.text());
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  return async () => {
    const inPage = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
    return [...seen, ...inPage];
  };
}
