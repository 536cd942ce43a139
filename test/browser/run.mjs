// `npm run test:browser`: the browser suite in real headless browsers, the way users have them
// (test/browser/browsers.mjs finds or installs them):
//   - chromium: Chromium (Debian's, or Chrome, or Playwright's), driven by playwright-core;
//   - firefox: Firefox (Debian's firefox-esr 153), driven by puppeteer-core over WebDriver BiDi;
//   - firefox-no-waitAsync: the main-thread fallback without Atomics.waitAsync — Debian's Firefox ESR 140
//     when it is installed (/opt/firefox-esr-140, .ci/run), otherwise Firefox with waitAsync removed before
//     any script of the page runs.
// Builds dist/, serves the repository root on 127.0.0.1 (random port) with COOP/COEP and Cache-Control:
// no-store (scripts/coi-server.mjs), opens each test page in a fresh browser context, and reads the
// outcome the page asserted itself (`window.__result`). Uncaught page errors and console errors fail the
// test. Prints one line per test and ends with `browser: N passed, M failed`.
//   node test/browser/run.mjs [browser-filter] [test-filter]     e.g. `firefox killAndAdd`
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildLib } from '../../scripts/build.mjs';
import { startCoiServer } from '../../scripts/coi-server.mjs';
import { browserVersion, findBrowser } from './browsers.mjs';
import { launch } from './drivers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const artifacts = path.join(root, 'test/browser/artifacts');

/** Every test: a page, the test it runs, and optional checks from the runner's side. */
const TESTS = [
  { name: 'isolation', page: 'pages/tests.html?test=isolation', headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } },
  { name: 'dispatch', page: 'pages/tests.html?test=dispatch' },
  { name: 'text', page: 'pages/tests.html?test=text', mainWaitIndependent: true },
  { name: 'members', page: 'pages/tests.html?test=members' },
  { name: 'controlWhileBusy', page: 'pages/tests.html?test=controlWhileBusy' },
  { name: 'errors', page: 'pages/tests.html?test=errors' },
  { name: 'uncaught', page: 'pages/tests.html?test=uncaught' },
  { name: 'killAndAdd', page: 'pages/tests.html?test=killAndAdd' },
  { name: 'killDeliversFinished', page: 'pages/tests.html?test=killDeliversFinished' },
  { name: 'workerDeath', page: 'pages/tests.html?test=workerDeath', mainWaitIndependent: true },
  { name: 'mainNeverWaits', page: 'pages/tests.html?test=mainNeverWaits' },
  { name: 'timeoutReplacesStuckWorker', page: 'pages/tests.html?test=timeoutReplacesStuckWorker', mainWaitIndependent: true },
  { name: 'progress', page: 'pages/tests.html?test=progress' },
  { name: 'zeroCopy', page: 'pages/tests.html?test=zeroCopy' },
  { name: 'kernels', page: 'pages/tests.html?test=kernels', mainWaitIndependent: true },
  { name: 'responsive', page: 'pages/tests.html?test=responsive' },
  { name: 'callback', page: 'pages/tests.html?test=callback' },
  { name: 'shutdown', page: 'pages/tests.html?test=shutdown' },
  { name: 'notIsolated', page: 'pages/tests.html?test=notIsolated&coi=0', shows: 'Cross-Origin-Opener-Policy: same-origin', mainWaitIndependent: true },
  { name: 'waitAsyncMissing', page: 'pages/fallback.html?test=waitAsyncMissing' },
  { name: 'demo', page: '../../examples/browser-demo/index.html?autostart=1', demo: true, mainWaitIndependent: true },
];

/**
 * The browser runs. `noWaitAsync`: the pages run without Atomics.waitAsync on the main thread (they are
 * told with `waitAsync=absent`, so `isolation` checks the fallback is really exercised); that run skips
 * the tests marked `mainWaitIndependent` (what they check does not depend on how main waits, and Firefox
 * runs them already), to keep `npm test` short.
 */
const RUNS = [
  { name: 'chromium', driver: 'chromium', find: () => findBrowser('chromium') },
  { name: 'firefox', driver: 'firefox', find: () => findBrowser('firefox') },
  {
    name: 'firefox-no-waitAsync',
    driver: 'firefox',
    noWaitAsync: true,
    find: () => {
      const esr140 = findBrowser('firefox140');
      if (esr140.path) return { ...esr140, native: true };
      const firefox = findBrowser('firefox', { install: false });
      return firefox.path ? { ...firefox, native: false, note: `${esr140.missing}; using Firefox with Atomics.waitAsync removed before the page's scripts` } : esr140;
    },
  },
];

function line(ok, name, ms, text) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(48)} ${String(Math.round(ms)).padStart(6)} ms  ${text}`);
}

/** Runs one test in a fresh context; resolves with `{ ok, text }`. */
async function runOne(browser, baseUrl, test, run) {
  const page = await browser.newPage({ removeWaitAsync: run.noWaitAsync && !run.native });
  const problems = [];
  page.onProblem((p) => problems.push(p));
  try {
    const url = new URL(`test/browser/${test.page}`, baseUrl);
    if (run.noWaitAsync) url.searchParams.set('waitAsync', 'absent');
    const response = await page.goto(url.href);
    for (const [name, value] of Object.entries(test.headers ?? {})) {
      const got = response?.headers()[name];
      if (got !== value) return { ok: false, text: `response header ${name}: expected ${value}, got ${got}` };
    }
    if (test.demo) return await checkDemo(page, problems, run);
    await page.waitFor(() => window.__result !== undefined, 120_000);
    const result = await page.evaluate(() => window.__result);
    if (!result.ok) return { ok: false, text: result.error };
    if (test.shows) {
      const shown = await page.text('#out');
      if (!shown?.includes(test.shows)) return { ok: false, text: `the page does not show the error (shows: ${shown})` };
    }
    if (problems.length > 0) return { ok: false, text: problems.join('\n') };
    return { ok: true, text: JSON.stringify(result.detail) };
  } catch (e) {
    return { ok: false, text: `${e.message}${problems.length ? `\n${problems.join('\n')}` : ''}` };
  } finally {
    await page.close();
  }
}

/** The demo renders: every tile completes, the numbers appear, a worker is added and one killed meanwhile. */
async function checkDemo(page, problems, run) {
  await page.waitFor(() => window.demo?.state === 'done', 120_000);
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
  const shot = path.join(artifacts, `browser-demo-${run.name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  if (problems.length > 0) fails.push(...problems);
  return { ok: fails.length === 0, text: fails.length ? fails.join('; ') : `${JSON.stringify(s)} screenshot ${path.relative(root, shot)}` };
}

async function main() {
  const [browserFilter, testFilter] = process.argv.slice(2);
  const runs = browserFilter ? RUNS.filter((r) => r.name === browserFilter) : RUNS;
  const chosen = testFilter ? TESTS.filter((t) => t.name.includes(testFilter)) : TESTS;
  let passed = 0;
  let failed = 0;
  try {
    await buildLib({ quiet: true });
  } catch (e) {
    console.log(`FAIL build: dist/ could not be built: ${e.message.split('\n')[0]}`);
    console.log('browser: 0 passed, 1 failed');
    process.exit(1);
  }
  const server = await startCoiServer({ root });
  try {
    for (const spec of runs) {
      const started = performance.now();
      const found = spec.find();
      if (!found.path) {
        line(false, `${spec.name}: browser`, 0, found.missing);
        failed++;
        continue;
      }
      const run = { ...spec, native: found.native ?? true };
      let browser;
      try {
        browser = await launch(spec.driver, found.path);
        console.log(`---- ${spec.name}: ${browser.version} (${found.path}, ${found.source})${found.note ? ` — ${found.note}` : ''}`);
        for (const test of chosen.filter((t) => !(spec.noWaitAsync && t.mainWaitIndependent))) {
          const t = performance.now();
          const { ok, text } = await runOne(browser, server.url, test, run);
          line(ok, `${spec.name}: ${test.name}`, performance.now() - t, text);
          if (ok) passed++;
          else failed++;
        }
      } catch (e) {
        line(false, `${spec.name}: browser`, performance.now() - started, `${e.message} (${found.path}, ${browserVersion(found.path) ?? 'version unknown'})`);
        failed++;
      } finally {
        await browser?.close().catch(() => undefined);
      }
      console.log(`     ${spec.name}: ${Math.round((performance.now() - started) / 1000)} s`);
    }
  } finally {
    await server.close();
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
