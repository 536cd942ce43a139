/**
 * One library's RSS run, in a process of its own (RSS is per process: measuring several libraries in
 * one process would charge each with the others' leftovers). Started by suites/rss.ts as
 * `node --expose-gc --import tsx bench/suites/rss.child.ts <library> <jobs> <workers>`; prints one JSON line.
 */
import { checkEach, runWindowed, sleep } from '../lib/measure.js';
import { LIBRARIES, openPool, type LibName } from '../lib/pools.js';

const [lib, jobsArg, workersArg] = process.argv.slice(2);
if (!LIBRARIES.includes(lib as LibName)) throw new Error(`rss.child: unknown library ${lib}`);
const jobs = Number(jobsArg);
const workers = Number(workersArg);
const gc = (globalThis as { gc?: () => void }).gc;
const settle = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  return process.memoryUsage.rss() / 2 ** 20;
};

const pool = await openPool(lib as LibName, workers);
const warm = Math.min(20_000, Math.max(1_000, jobs / 50));
checkEach(lib!, await runWindowed(warm, 1024, (i) => pool.inc(i)), (i) => i + 1);
const before = await settle();
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss() / 2 ** 20);
}, 50);
const t0 = performance.now();
const chunk = 50_000;
for (let done = 0; done < jobs; done += chunk) {
  const n = Math.min(chunk, jobs - done);
  const results = await runWindowed(n, 1024, (i) => pool.inc(done + i));
  checkEach(lib!, results, (i) => done + i + 1);
}
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
const after = await settle();
await pool.close();
process.stdout.write(`${JSON.stringify({ lib, before, after, peak: Math.max(peak, after), jobsPerSecond: jobs / seconds, gc: gc !== undefined })}\n`);
