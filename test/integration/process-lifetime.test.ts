// The process-lifetime matrix, run as child processes (the test runner keeps its own event loop alive,
// so only a plain `node` script shows whether the workgroup keeps the process alive exactly while work
// is outstanding). Each case of test/fixtures/lifetime.mjs runs one operation as the only pending work
// and prints `after <case>` once its await returned; the script never calls process.exit.
//  - exiting early (an unsettled top-level await) shows as exit code 13 without the marker;
//  - a leaked handle keeps the process alive: it is killed `IDLE_BOUND_MS` after the marker and the
//    test fails with "did not exit".
// The children run a few at a time so the whole file stays well under a minute on a loaded machine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './run-node.js';

const script = fileURLToPath(new URL('../fixtures/lifetime.mjs', import.meta.url));
/** How long the process may stay alive once its last await returned (it has nothing left to do). */
const IDLE_BOUND_MS = 5000;
/** Hard bound on one child from start (launch of a few workers on a loaded 2-core machine). */
const START_BOUND_MS = 25_000;
const PARALLEL = 4;

interface LifetimeRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from the marker line to the exit; undefined when no marker was printed. */
  readonly exitAfterMarkerMs: number | undefined;
  /** Killed by the test: it did not exit by itself in time. */
  readonly killed: 'after-marker' | 'no-marker' | undefined;
}

function runCase(name: string, args: readonly string[]): Promise<LifetimeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, name, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let markerAt: number | undefined;
    let killed: LifetimeRun['killed'];
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const hardTimer = setTimeout(() => {
      killed ??= 'no-marker';
      child.kill('SIGKILL');
    }, START_BOUND_MS);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (markerAt === undefined && stdout.includes(`after ${name}\n`)) {
        markerAt = Date.now();
        idleTimer = setTimeout(() => {
          killed = 'after-marker';
          child.kill('SIGKILL');
        }, IDLE_BOUND_MS);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => {
      clearTimeout(hardTimer);
      clearTimeout(idleTimer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(hardTimer);
      clearTimeout(idleTimer);
      resolve({ code, signal, stdout, stderr, exitAfterMarkerMs: markerAt === undefined ? undefined : Date.now() - markerAt, killed });
    });
  });
}

/** Starts the cases `PARALLEL` at a time; each test awaits its own run. */
function schedule(cases: readonly (readonly [string, readonly string[]])[]): Map<string, Promise<LifetimeRun>> {
  const out = new Map<string, Promise<LifetimeRun>>();
  let running = 0;
  const queue: Array<() => void> = [];
  const slot = () =>
    new Promise<void>((resolve) => {
      if (running < PARALLEL) {
        running++;
        resolve();
      } else queue.push(() => (running++, resolve()));
    });
  const release = () => {
    running--;
    queue.shift()?.();
  };
  for (const [name, args] of cases) {
    const key = [name, ...args].join(' ');
    out.set(
      key,
      slot().then(() => runCase(name, args).finally(release)),
    );
  }
  return out;
}

function explain(name: string, r: LifetimeRun): string {
  const why =
    r.killed === 'after-marker'
      ? `did not exit within ${IDLE_BOUND_MS} ms after its last await returned (something keeps the process alive)`
      : r.killed === 'no-marker'
        ? `did not reach the end of the operation within ${START_BOUND_MS} ms`
        : r.code === 13
          ? 'exited with code 13 before the operation settled (an unsettled top-level await: nothing kept the process alive)'
          : `exited with code ${r.code} (signal ${r.signal})`;
  return `case '${name}' ${why}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr.slice(0, 2000)}`;
}

const operations = [
  'launch',
  'dispatch',
  'dispatchAll',
  'dispatchAllSettled-kill',
  'parallelReduce',
  'parallelFor-timeout',
  'invoke',
  'addInstance',
  'destroyInstance-twice',
  'destroyInstance-twice-3',
  'destroyInstance-after-readd',
  'kill',
  'kill-3',
  'kill-member',
  'kill-busy',
  'kill-after-destroyInstance-3',
  'addIsolate',
  'addIsolate-3',
  'probe',
  'shutdown',
  'shutdown-drain',
  'callback-run',
  'after-a-timed-out-call',
  'shutdown-during-sequential-launch',
] as const;
const idle = ['idle-1', 'idle-several', 'idle-sequential', 'idle-after-addIsolate', 'idle-after-respawn'] as const;
const healthOff = ['destroyInstance-twice', 'addIsolate', 'idle-after-respawn', 'idle-1'] as const;

const runs = schedule([
  ...operations.map((n) => [n, []] as const),
  ...idle.map((n) => [n, []] as const),
  ...healthOff.map((n) => [n, ['--health-off']] as const),
]);

async function expectCleanExit(name: string, args: readonly string[] = []): Promise<void> {
  const r = await runs.get([name, ...args].join(' '))!;
  if (r.code !== 0 || r.killed !== undefined || r.exitAfterMarkerMs === undefined) throw new Error(explain(name, r));
  expect(r.stdout).toContain(`after ${name}\n`);
  expect(r.exitAfterMarkerMs).toBeLessThan(IDLE_BOUND_MS);
}

describe('defect 1: a plain node script whose only pending work is one operation completes it and exits with code 0 by itself', () => {
  it.each(operations)('%s', async (name) => expectCleanExit(name), START_BOUND_MS + IDLE_BOUND_MS + 10_000);
});

describe('defect 1: an idle launched workgroup lets the process exit', () => {
  it.each(idle)('%s', async (name) => expectCleanExit(name), START_BOUND_MS + IDLE_BOUND_MS + 10_000);
});

describe('defect 1: with health checks off, the process still exits by itself', () => {
  it.each(healthOff)('%s', async (name) => expectCleanExit(name, ['--health-off']), START_BOUND_MS + IDLE_BOUND_MS + 10_000);
});
