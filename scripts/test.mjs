// `npm test`: every test tier in one command, from a fresh clone.
//   1. installs dependencies when needed (scripts/ensure-deps.mjs),
//   2. runs vitest (unit, integration, short stress, docs) — vitest's globalSetup builds dist/,
//   3. runs the browser suite in headless Chromium and Firefox (test/browser/run.mjs),
//   4. runs the runtime suite on Node, Bun and Deno (test/runtimes/run.mjs),
// and ends with one plain line `N passed, N failed` that CI reads.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

run(process.execPath, ['scripts/ensure-deps.mjs']);

const extra = process.argv.slice(2);
const results = path.join(root, '.vitest-results.json');
rmSync(results, { force: true });
const vitest = run(process.execPath, [
  'node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...extra,
]);
let passed = 0;
let failed = 0;
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + report.numPendingTests + report.numTodoTests;
  // A file that failed to load counts as a failure even though it ran no test.
  failed += report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
} else {
  console.error('vitest wrote no report: counting the whole vitest run as one failure');
  failed += 1;
}
if (vitest.status !== 0 && failed === 0) failed += 1;

/** Runs one plain tier script and adds the counts of its closing `<tag>: N passed, M failed` line. */
function tier(script, tag) {
  if (!existsSync(path.join(root, script))) return;
  const started = performance.now();
  const child = run(process.execPath, [script], { stdio: ['inherit', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
  process.stdout.write(child.stdout ?? '');
  const m = new RegExp(`^${tag}: (\\d+) passed, (\\d+) failed`, 'm').exec(child.stdout ?? '');
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  } else {
    console.error(`${tag} tier printed no summary: counting it as one failure`);
    failed += 1;
  }
  tiers.push(`${tag} ${Math.round((performance.now() - started) / 1000)} s`);
}

const tiers = [];
if (extra.length === 0) {
  tier('test/browser/run.mjs', 'browser'); // Chromium, Firefox ESR and the Firefox fallback path
  tier('test/runtimes/run.mjs', 'runtimes'); // the runtime suite on Node, Bun and Deno
  console.log(`tier times: ${tiers.join(', ')}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
