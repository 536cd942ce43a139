/**
 * Browser benchmark: isolate-workgroup against a raw postMessage worker pool written in the bench page,
 * in the same page, with the same 2 module workers and the same tiny job (a + b), in headless Chromium
 * (playwright-core) and headless Firefox (puppeteer-core over WebDriver BiDi), each found the way
 * test/browser/browsers.mjs finds them:
 *
 * - throughput: 100,000 tiny jobs dispatched at once (jobs/s, median of 5 runs);
 * - round trip: one job at a time, 5,000 times (p50 and p99 in µs, median of 5 runs);
 * - both again with `mainSpinMicros: 0` (main waits with waitAsync at once instead of spinning ≤ 50 µs);
 * - start-up: constructor → launch() → one job done on each worker, against two plain module workers
 *   answering one message each (median of 7 alternating starts after a warm-up).
 *
 * Every result is checked in the page. The libraries alternate within each repetition, after a
 * warm-up, so that a busy machine slows both alike: compare the ratios within one browser, not the
 * absolute figures across runs. Clocks in a cross-origin-isolated page have a 5 µs (Chromium) or 20 µs
 * (Firefox) resolution: round trips are rounded to it.
 *
 * Run: `node bench/browser.bench.mjs [--smoke] [chromium|firefox]` — builds dist/, prints a Markdown
 * table per browser and writes bench/results/browser.json (browser.smoke.json with --smoke). The umbrella
 * runner calls `runBrowserSuite({ smoke })`, which resolves with rows `{ name, library, metric, value, unit }`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildLib } from '../scripts/build.mjs';
import { startCoiServer } from '../scripts/coi-server.mjs';
import { findBrowser } from '../test/browser/browsers.mjs';
import { launch } from '../test/browser/drivers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBS = ['isolate-workgroup', 'isolate-workgroup, mainSpinMicros 0', 'postMessage'];
const BROWSERS = ['chromium', 'firefox'];

/** Runs the page's benchmark once in a fresh browser of `kind`; resolves with what the page measured. */
async function measureIn(kind, { smoke }) {
  const found = findBrowser(kind);
  if (!found.path) throw new Error(found.missing);
  await buildLib({ quiet: true });
  const server = await startCoiServer({ root: ROOT });
  const browser = await launch(kind, found.path);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.onProblem((p) => errors.push(p));
    await page.goto(`${server.url}bench/browser/page.html`);
    await page.waitFor(() => typeof window.runBench === 'function', 30_000);
    const result = await page.evaluate((opts) => window.runBench(opts), { smoke });
    if (errors.length > 0) throw new Error(`the bench page reported: ${errors.join('; ')}`);
    return { ...result, browser: kind, version: browser.version };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The flat rows of one measurement. */
function rowsOf(result) {
  const rows = [
    { name: `browser: start-up, ${result.workers} workers ready and each ran a job`, library: 'isolate-workgroup', metric: 'startup', value: round1(result.startup.ours), unit: 'ms' },
    { name: `browser: start-up, ${result.workers} workers ready and each ran a job`, library: 'postMessage', metric: 'startup', value: round1(result.startup.raw), unit: 'ms' },
  ];
  for (const library of LIBS) {
    const s = result.summary[library];
    const where = `browser (${result.browser})`;
    rows.push({ name: `${where}: ${result.jobs.toLocaleString('en')} tiny jobs at once, ${result.workers} workers`, library, metric: 'throughput', value: Math.round(s.throughput), unit: 'jobs/s' });
    rows.push({ name: `${where}: round trip, one job at a time, p50`, library, metric: 'rtt-p50', value: round1(s.p50), unit: 'µs' });
    rows.push({ name: `${where}: round trip, one job at a time, p99`, library, metric: 'rtt-p99', value: round1(s.p99), unit: 'µs' });
  }
  const batch = result.summary['isolate-workgroup, dispatchAll'];
  rows.push({ name: `browser (${result.browser}): ${result.jobs.toLocaleString('en')} tiny jobs in one dispatchAll, ${result.workers} workers`, library: 'isolate-workgroup', metric: 'batch-throughput', value: Math.round(batch.throughput), unit: 'jobs/s' });
  return rows;
}

const round1 = (x) => Math.round(x * 10) / 10;

/** For the umbrella runner: measures in Chromium and Firefox, resolves with `{ name, library, metric, value, unit }[]`. */
export async function runBrowserSuite({ smoke = false } = {}) {
  const rows = [];
  for (const kind of BROWSERS) rows.push(...rowsOf(await measureIn(kind, { smoke })));
  return rows;
}

function table(result) {
  const pm = result.summary.postMessage;
  const fmt = (x, d = 0) => x.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d });
  const speed = (r) => (r === 1 ? '1.00×' : r > 1 ? `${r.toFixed(2)}× faster` : `${(1 / r).toFixed(2)}× slower`);
  const line = (label, s) =>
    `| ${label} | ${fmt(s.throughput)} | ${(s.throughput / pm.throughput).toFixed(2)}× | ${fmt(s.p50, 1)} | ${speed(pm.p50 / s.p50)} | ${fmt(s.p99, 1)} |`;
  return [
    `| library | ${fmt(result.jobs)} tiny jobs at once (jobs/s) | × postMessage | round trip p50 (µs) | vs postMessage | round trip p99 (µs) |`,
    '|---|---:|---:|---:|---:|---:|',
    line('**isolate-workgroup**', result.summary['isolate-workgroup']),
    line('isolate-workgroup, `mainSpinMicros: 0`', result.summary['isolate-workgroup, mainSpinMicros 0']),
    line('postMessage pool (baseline)', pm),
    `| isolate-workgroup, the same jobs in one \`dispatchAll\` | ${fmt(result.summary['isolate-workgroup, dispatchAll'].throughput)} | ${(result.summary['isolate-workgroup, dispatchAll'].throughput / pm.throughput).toFixed(2)}× | | | |`,
    '',
    `| start-up: ${result.workers} workers ready, each ran one job (ms) | isolate-workgroup | two plain module workers | ratio |`,
    '|---|---:|---:|---:|',
    `| median of ${result.startup.samples.ours.length} | ${fmt(result.startup.ours, 1)} | ${fmt(result.startup.raw, 1)} | ${(result.startup.ours / result.startup.raw).toFixed(2)}× |`,
  ].join('\n');
}

async function main() {
  const smoke = process.argv.includes('--smoke');
  const only = process.argv.slice(2).find((a) => BROWSERS.includes(a));
  const started = performance.now();
  const doc = {
    suite: 'browser',
    date: new Date().toISOString(),
    smoke,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg().map((x) => round1(x)) },
    browsers: {},
  };
  for (const kind of only ? [only] : BROWSERS) {
    const result = await measureIn(kind, { smoke });
    const wg = result.summary['isolate-workgroup'];
    const pm = result.summary.postMessage;
    doc.browsers[kind] = {
      version: result.version,
      workers: result.workers,
      jobs: result.jobs,
      roundTrips: result.trips,
      repetitions: result.reps,
      ratios: {
        throughput: Math.round((wg.throughput / pm.throughput) * 100) / 100,
        batchThroughput: Math.round((result.summary['isolate-workgroup, dispatchAll'].throughput / pm.throughput) * 100) / 100,
        rttP50: Math.round((pm.p50 / wg.p50) * 100) / 100,
        rttP50NoSpin: Math.round((pm.p50 / result.summary['isolate-workgroup, mainSpinMicros 0'].p50) * 100) / 100,
        startup: Math.round((result.startup.ours / result.startup.raw) * 100) / 100,
      },
      startup: result.startup,
      rows: rowsOf(result),
      samples: Object.fromEntries(LIBS.map((l) => [l, result.summary[l].samples])),
    };
    const r = doc.browsers[kind].ratios;
    console.log(`\n### Browser: ${result.version}, ${result.workers} workers, ${result.cores} cores${smoke ? ' — smoke run (tiny counts, times mean nothing)' : ''}\n`);
    console.log(table(result));
    console.log(`\nisolate-workgroup in ${kind}: ${r.throughput}× the postMessage pool's throughput (${r.batchThroughput}× in one dispatchAll; issue 11's target: ≥ 10×); round-trip p50 speed ${r.rttP50}× the pool's (${r.rttP50NoSpin}× with mainSpinMicros 0).`);
  }
  doc.machine.loadAfter = os.loadavg().map((x) => round1(x));
  const out = new URL(`./results/browser${smoke ? '.smoke' : ''}.json`, import.meta.url);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(out, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`\nload ${doc.machine.load.join(' / ')} → ${doc.machine.loadAfter.join(' / ')}; ${((performance.now() - started) / 1000).toFixed(1)} s; wrote ${fileURLToPath(out)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
