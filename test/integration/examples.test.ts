// Every file in examples/ runs as a user would run it (`node examples/x.mjs` after a build; they import
// the package by name, which resolves to dist/ through the package's own `exports`) and prints what
// its comments promise.
import { runNode, type NodeRun } from './run-node.js';
import { describe, expect, it } from 'vitest';


function runExample(name: string): Promise<NodeRun> {
  return runNode([`examples/${name}`], 50_000);
}

async function ok(name: string): Promise<string> {
  const r = await runExample(name);
  expect(r.stderr, `${name} wrote to stderr`).toBe('');
  expect(r.code, `${name} exited with ${r.code}:\n${r.stdout}`).toBe(0);
  return r.stdout;
}

describe('examples', () => {
  it('one-off-jobs.mjs: counts primes on 2 workers, pins a job, and catches the worker\'s own error class', async () => {
    const out = await ok('one-off-jobs.mjs');
    expect(out).toMatch(/primes below 200,000: 17984 /);
    expect(out).toMatch(/the job sent to worker 1 ran on worker 1/);
    expect(out).toMatch(/caught NotANumberError: "twelve" is not a number \(instanceof NotANumberError: true, text: twelve\)/);
    expect(out).toMatch(/parsed 42 after the failure/);
  }, 60_000);

  it('stateful-member.mjs: two members on two workers keep state, call back the host, and are destroyed', async () => {
    const out = await ok('stateful-member.mjs');
    expect(out).toMatch(/members 1 and 2 live on workers 0 and 1/);
    expect(out).toMatch(/member 1 has read 1 text\(s\)\n[\s\S]*member 1 has read 3 text\(s\)/);
    expect(out).toMatch(/the member spotted "wisdom"/);
    expect(out).toMatch(/the member spotted "hope"/);
    expect(out).toMatch(/top words: it ×9, of ×9, the ×9/);
    expect(out).toMatch(/concurrent calls answered 2, 3, 4/);
    expect(out).toMatch(/members left: 0/);
  }, 60_000);

  it('bullmq-fleet.mjs: starts Redis and two machine processes, spreads bands over both, keeps an error\'s class, runs an invoice once', async () => {
    const out = await ok('bullmq-fleet.mjs');
    expect(out).toMatch(/points inside the set: 15271 \(12 bands, \d+ progress reports\)/);
    expect(out).toMatch(/bands per machine process: \d+ \+ \d+ on 2 machines/);
    expect(out).toMatch(/caught BandTooBig: band 99 of 12 does not exist \(instanceof BandTooBig: true, band: 99\)/);
    expect(out).toMatch(/remote stack marked: true/);
    expect(out).toMatch(/invoice recorded 250 and 250; the invoice job ran 1 time\(s\)/);
    expect(out).toMatch(/fleet stopped/);
  }, 60_000);

  it('progress.mjs: ten progress lines in order before the result, then a job cancelled half way', async () => {
    const out = await ok('progress.mjs');
    const percents = [...out.matchAll(/\] +(\d+)%/g)].map((m) => Number(m[1]));
    expect(percents).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(out.indexOf('100%')).toBeLessThan(out.indexOf('result after every report'));
    expect(out).toMatch(/hash [0-9a-f]+ of 200,000 items/);
    expect(out).toMatch(/slow job at 50%/);
    expect(out).toMatch(/slow job cancelled: WorkgroupJobAbortedException/);
  }, 60_000);

  it('zero-copy.mjs: workers scale the main thread\'s shared array in place and return a shared result', async () => {
    const out = await ok('zero-copy.mjs');
    expect(out).toMatch(/allocated 16 MiB on shared memory \(SharedArrayBuffer\)/);
    // sum of i % 100 over 2 * 2^20 elements
    const n = 2 * 2 ** 20;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += i % 100;
    expect(out).toContain(`sum ${sum} computed by 2 workers`);
    expect(out).toMatch(/data\[1\] = 2, data\[n - 1\] = 102/);
    expect(out).toMatch(/histogram allocated by the worker: [\d, ]+ \(Uint32Array on SharedArrayBuffer\)/);
    const bins = /histogram allocated by the worker: ([\d, ]+) \(/.exec(out)![1]!.split(', ').map(Number);
    expect(bins.reduce((a, b) => a + b, 0)).toBe(n);
    expect(out).toMatch(/released both arrays/);
  }, 60_000);

  it('resize-and-health.mjs: adds and kills workers under load, loses nothing, and replaces a crashed worker', async () => {
    const out = await ok('resize-and-health.mjs');
    expect(out).toMatch(/launched: 2 live of 2 indices/);
    expect(out).toMatch(/addIsolate\(\) -> worker 2: 3 live of 3 indices/);
    expect(out).toMatch(/kill\(0\): 2 live of 3 indices; probe\(0\) = false/);
    const m = /stream: (\d+) of (\d+) jobs done on workers ([\d, ]+), (\d+) cancelled by the kill/.exec(out);
    expect(m, out).not.toBeNull();
    const [, done, dispatched, workers, cancelled] = m!;
    expect(Number(done) + Number(cancelled)).toBe(Number(dispatched));
    // Only what worker 0 held when it was killed: its running job, plus results it had written but not yet
    // published (a worker publishes its results in batches; at most one per running word, 16).
    expect(Number(cancelled)).toBeLessThanOrEqual(16);
    expect(workers).toBe('0, 1, 2');
    expect(out).toMatch(/probe\(1\) = true, healthy: true/);
    expect(out).toMatch(/probe\(2\) = true, healthy: true/);
    expect(out).toMatch(/communication handler: worker 1 — WorkgroupMemberDeadException/);
    expect(out).toMatch(/crash job rejected with WorkgroupMemberDeadException/);
    expect(out).toMatch(/after the crash and respawn: 2 live of 4 indices, live workers: 2, 3/);
    expect(out).toMatch(/a job after all that ran on worker [23]/);
  }, 60_000);
});

describe('the demo (npm start)', () => {
  it('demo.mjs piped: plain lines, no escape codes, at most 80 columns, all four parts and a checked comparison', async () => {
    const out = await ok('demo.mjs');
    expect(out.includes(String.fromCharCode(27)), "escape code in piped output").toBe(false);
    for (const line of out.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(out).toMatch(/ 1 · 8,000 jobs .* 4 workers/);
    expect(out).toMatch(/100% — 8,000 jobs done/);
    expect(out).toMatch(/ 2 · a cache member warming up/);
    expect(out).toMatch(/1,000 calls: hit rate \d+%, 150 entries/);
    expect(out).toMatch(/ 3 · a worker killed and another added/);
    expect(out).toMatch(/addIsolate\(\) -> worker 4/);
    expect(out).toMatch(/jobs: [\d,]+ done, \d+ rejected by the kill, 0 lost/);
    expect(out).toMatch(/one thread \(main\) +[\d.]+ s +1\.00× 256,726 primes/);
    expect(out).toMatch(/piscina, 4 threads +[\d.]+ s/);
    expect(out).toMatch(/isolate-workgroup, 4 workers +[\d.]+ s +[\d.]+× all answers checked/);
  }, 120_000);
});
