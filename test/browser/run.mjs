// `npm run test:browser`: the browser suite in real headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core). Builds dist/, serves the repository root on 127.0.0.1 (random port) with COOP/COEP
// and Cache-Control: no-store (scripts/coi-server.mjs), opens each test page in a fresh browser context,
// and reads the outcome the page asserted itself (`window.__result`). Uncaught page errors and console
// errors fail the test. Prints one line per test and ends with `browser: N passed, M failed`.
//   node test/browser/run.mjs [name-filter]
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildLib } from '../../scripts/build.mjs';
import { startCoiServer } from '../../scripts/coi-server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const artifacts = path.join(root, 'test/browser/artifacts');

/** Every test: a page, the test it runs, and optional checks from the runner's side. */
const TESTS = [
  { name: 'isolation', page: 'pages/tests.html?test=isolation', headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } },
  { name: 'dispatch', page: 'pages/tests.html?test=dispatch' },
  { name: 'text', page: 'pages/tests.html?test=text' },
  { name: 'members', page: 'pages/tests.html?test=members' },
  { name: 'controlWhileBusy', page: 'pages/tests.html?test=controlWhileBusy' },
  { name: 'errors', page: 'pages/tests.html?test=errors' },
  { name: 'uncaught', page: 'pages/tests.html?test=uncaught' },
  { name: 'killAndAdd', page: 'pages/tests.html?test=killAndAdd' },
  { name: 'workerDeath', page: 'pages/tests.html?test=workerDeath' },
  { name: 'mainNeverWaits', page: 'pages/tests.html?test=mainNeverWaits' },
  { name: 'timeoutReplacesStuckWorker', page: 'pages/tests.html?test=timeoutReplacesStuckWorker' },
  { name: 'progress', page: 'pages/tests.html?test=progress' },
  { name: 'zeroCopy', page: 'pages/tests.html?test=zeroCopy' },
  { name: 'responsive', page: 'pages/tests.html?test=responsive' },
  { name: 'callback', page: 'pages/tests.html?test=callback' },
  { name: 'shutdown', page: 'pages/tests.html?test=shutdown' },
  { name: 'notIsolated', page: 'pages/tests.html?test=notIsolated&coi=0', shows: 'Cross-Origin-Opener-Policy: same-origin' },
  { name: 'waitAsyncMissing', page: 'pages/fallback.html?test=waitAsyncMissing' },
  { name: 'demo', page: '../../examples/browser-demo/index.html?autostart=1', demo: true },
];

function line(ok, name, ms, text) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(26)} ${String(Math.round(ms)).padStart(6)} ms  ${text}`);
}

/** Runs one test in a fresh context; resolves with `{ ok, text }`. */
async function runOne(browser, baseUrl, test) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught in page: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  try {
    const url = new URL(`test/browser/${test.page}`, baseUrl).href;
    const response = await page.goto(url);
    for (const [name, value] of Object.entries(test.headers ?? {})) {
      const got = response?.headers()[name];
      if (got !== value) return { ok: false, text: `response header ${name}: expected ${value}, got ${got}` };
    }
    if (test.demo) return await checkDemo(page, problems);
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 120_000 });
    const result = await page.evaluate(() => window.__result);
    if (!result.ok) return { ok: false, text: result.error };
    if (test.shows) {
      const shown = await page.textContent('#out');
      if (!shown?.includes(test.shows)) return { ok: false, text: `the page does not show the error (shows: ${shown})` };
    }
    if (problems.length > 0) return { ok: false, text: problems.join('\n') };
    return { ok: true, text: JSON.stringify(result.detail) };
  } catch (e) {
    return { ok: false, text: `${e.message}${problems.length ? `\n${problems.join('\n')}` : ''}` };
  } finally {
    await context.close();
  }
}

/** The demo renders: every tile completes, the numbers appear, a worker is added and one killed meanwhile. */
async function checkDemo(page, problems) {
  await page.waitForFunction(() => window.demo?.state === 'done', null, { timeout: 120_000 });
  const s = await page.evaluate(() => window.demo.summary());
  const fails = [];
  if (s.tilesDone !== s.tiles || s.tiles === 0) fails.push(`tiles: ${s.tilesDone} of ${s.tiles}`);
  if (!(s.jobsPerSecond > 0)) fails.push(`jobs/s shown: ${s.jobsPerSecondText}`);
  if (!(s.singleThreadMs > 0)) fails.push(`single-thread time shown: ${s.singleThreadText}`);
  if (s.workerRows < 2) fails.push(`per-worker rows: ${s.workerRows}`);
  if (s.jobsCounted !== s.tiles) fails.push(`per-worker job counts add up to ${s.jobsCounted}, not ${s.tiles}`);
  if (!s.added || !s.killed) fails.push(`add/kill during the render: added=${s.added} killed=${s.killed}`);
  if (s.mismatchedPixels !== 0) fails.push(`${s.mismatchedPixels} pixels differ from the single-thread render`);
  if (s.blankTiles !== 0) fails.push(`${s.blankTiles} tiles left blank on the canvas`);
  mkdirSync(artifacts, { recursive: true });
  const shot = path.join(artifacts, 'browser-demo.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (problems.length > 0) fails.push(...problems);
  return { ok: fails.length === 0, text: fails.length ? fails.join('; ') : `${JSON.stringify(s)} screenshot ${path.relative(root, shot)}` };
}

async function main() {
  const filter = process.argv[2];
  const tests = filter ? TESTS.filter((t) => t.name.includes(filter)) : TESTS;
  if (!existsSync(CHROMIUM)) {
    console.log(`FAIL chromium: ${CHROMIUM} is missing. Install it with \`apt-get update && apt-get install -y chromium\` (Debian), or point CHROMIUM_PATH at a Chromium binary.`);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
  try {
    await buildLib({ quiet: true });
  } catch (e) {
    console.log(`FAIL build: dist/ could not be built: ${e.message.split('\n')[0]}`);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
  const server = await startCoiServer({ root });
  const { chromium } = await import('playwright-core');
  let browser;
  let passed = 0;
  let failed = 0;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    for (const test of tests) {
      const started = performance.now();
      const { ok, text } = await runOne(browser, server.url, test);
      line(ok, test.name, performance.now() - started, text);
      if (ok) passed++;
      else failed++;
    }
  } catch (e) {
    console.log(`FAIL browser suite: ${e.message}`);
    failed++;
  } finally {
    await browser?.close();
    await server.close();
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
