// The runtime tiers of `npm test`: the runtime suite (test/runtimes/suite.mjs) on Node, Bun and Deno
// (Bun and Deno come from the npm devDependencies `bun` and `deno`), each in its own process, plus two
// checks of how the process ends: after the suite (every workgroup shut down) and in a script that never
// calls shutdown() (test/runtimes/no-shutdown.mjs). Builds dist/ first.
//   node test/runtimes/run.mjs [runtime-filter]      runtimes: node, bun, deno, deno-browser
// Prints the suites' lines and ends with `runtimes: N passed, M failed`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildLib } from '../../scripts/build.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const SUITE = 'test/runtimes/suite.mjs';
const NO_SHUTDOWN = 'test/runtimes/no-shutdown.mjs';
/** A process must end this soon after its last line (no thread, port or timer left behind). */
const END_WITHIN_MS = 5000;
const SUITE_TIMEOUT_MS = 240_000;

const RUNTIMES = [
  { name: 'node', cmd: process.execPath, args: (script) => [script] },
  { name: 'bun', cmd: bin('bun'), args: (script) => [script] },
  { name: 'deno', cmd: bin('deno'), args: (script) => ['run', '--allow-read', script] },
  // Deno's Web Workers keep the process alive until terminated and cannot be unref'd, so a browser-entry
  // script on Deno must call shutdown(): no no-shutdown check there (README, runtime table).
  { name: 'deno-browser', cmd: bin('deno'), args: (script) => ['run', '--allow-read', script, '--entry=browser'], noShutdownCheck: false },
];

/** Runs a command; resolves with its output, exit code, and how long after its last output it ended. */
function runProcess(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let lastOutput = performance.now();
    child.stdout.on('data', (d) => {
      out += d;
      lastOutput = performance.now();
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ out, err: `${err}${e.message}`, code: -1, endedAfterMs: 0, timedOut: false });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ out, err, code, signal, endedAfterMs: performance.now() - lastOutput, timedOut: signal === 'SIGKILL' });
    });
  });
}

function line(ok, name, text) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(34)} ${text}`);
}

async function main() {
  const filter = process.argv[2];
  const runtimes = filter ? RUNTIMES.filter((r) => r.name === filter) : RUNTIMES;
  let passed = 0;
  let failed = 0;
  const count = (ok) => (ok ? passed++ : failed++);
  try {
    await buildLib({ quiet: true });
  } catch (e) {
    console.log(`FAIL build: dist/ could not be built: ${e.message.split('\n')[0]}`);
    console.log('runtimes: 0 passed, 1 failed');
    process.exit(1);
  }
  for (const rt of runtimes) {
    const started = performance.now();
    if (!existsSync(rt.cmd)) {
      line(false, rt.name, `${rt.cmd} is missing: run \`npm ci\` (the \`${rt.name.split('-')[0]}\` devDependency's install script must be allowed: package.json "allowScripts")`);
      count(false);
      continue;
    }
    const suite = await runProcess(rt.cmd, rt.args(SUITE), SUITE_TIMEOUT_MS);
    const m = /suite: (\d+) passed, (\d+) failed/.exec(suite.out);
    if (m) {
      passed += Number(m[1]);
      failed += Number(m[2]);
    } else {
      line(false, `${rt.name}: suite`, `printed no summary (exit ${suite.code}${suite.timedOut ? ', killed after the time limit' : ''}): ${suite.err.trim().split('\n').slice(-5).join(' | ')}`);
      count(false);
    }
    if (m) {
      const ended = !suite.timedOut && suite.endedAfterMs < END_WITHIN_MS && suite.code === 0;
      line(ended, `${rt.name}: ends after shutdown()`, suite.timedOut ? 'the process did not end' : `ended ${Math.round(suite.endedAfterMs)} ms after its last line, exit ${suite.code}${suite.err.trim() ? `, stderr: ${suite.err.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      count(ended);
    }
    if (rt.noShutdownCheck !== false) {
      const free = await runProcess(rt.cmd, rt.args(NO_SHUTDOWN), 60_000);
      const ok = free.out.includes('done: ok') && free.code === 0 && !free.timedOut && free.endedAfterMs < END_WITHIN_MS;
      line(ok, `${rt.name}: ends without shutdown()`, free.timedOut ? 'the process did not end by itself' : `ended ${Math.round(free.endedAfterMs)} ms after its last line, exit ${free.code}${free.err.trim() ? `, stderr: ${free.err.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      count(ok);
    }
    console.log(`     ${rt.name} tier: ${Math.round((performance.now() - started) / 1000)} s`);
  }
  console.log(`runtimes: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
