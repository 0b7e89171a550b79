// A big run's page in Chromium (see bench/big_run): from navigation to
// hydrated, then from a click on the last task's box to its log on screen.
// Usage: node bench/big_run.mjs RUN_URL COOKIE_NAME=VALUE TASK
import { launchChromium } from '../end2end/tests/browser.mjs';

const [url, cookie, task] = process.argv.slice(2);
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const [name, ...rest] = cookie.split('=');
await context.addCookies([{ name, value: rest.join('='), url }]);
const page = await context.newPage();
const errors = [];
page.on('pageerror', (error) => errors.push(error.message));
let start = Date.now();
await page.goto(url);
const loaded = Date.now() - start;
await page.waitForSelector('[data-hydrated="true"]', { timeout: 120_000 });
const hydrated = Date.now() - start;
start = Date.now();
await page.locator(`#dag g[data-task="${task}"]`).click();
await page.waitForSelector('#log .log-line, #log-empty', { timeout: 60_000 });
const logShown = Date.now() - start;
const inView = await page.locator('#log').evaluate((el) => {
  const box = el.getBoundingClientRect();
  return box.top < window.innerHeight && box.bottom > 0;
});
const width = await page.evaluate(() => document.documentElement.scrollWidth);
const metrics = await page.evaluate(() => performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1e6) : null);
console.log(`Chromium: load event ${loaded} ms, hydrated ${hydrated} ms; click on a box → its log ${logShown} ms (in view: ${inView}); page width ${width} px; JS heap ${metrics} MB`);
if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
await browser.close();
