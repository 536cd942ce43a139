// The browser benchmark page: isolate-workgroup against a raw postMessage worker pool written here, in
// the same page, same worker count, same job (a + b). Every result is checked. bench/browser.bench.mjs
// drives it: `await window.runBench({ smoke, config })` (`config`: extra WorkgroupConfig, e.g. { mainSpinMicros: 0 }).
import { IsolateWorkgroup } from '../../dist/index.browser.js';
import { Add } from './work.mjs';

const WORKERS = 2;

/** The baseline: N module workers, jobs round-robin, one postMessage each way per job, a Map of promises. */
class RawPool {
  #workers = [];
  #pending = new Map();
  #next = 0;
  #id = 0;

  async start(n) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL('./raw-worker.mjs', import.meta.url), { type: 'module' });
      w.onmessage = (e) => {
        const { id, r } = e.data;
        const resolve = this.#pending.get(id);
        this.#pending.delete(id);
        resolve(r);
      };
      this.#workers.push(w);
    }
    await Promise.all(this.#workers.map((_, i) => this.run(i, 0))); // every worker loaded
  }

  run(a, b) {
    const id = ++this.#id;
    const w = this.#workers[this.#next];
    this.#next = (this.#next + 1) % this.#workers.length;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      w.postMessage({ id, a, b });
    });
  }

  close() {
    for (const w of this.#workers) w.terminate();
  }
}

function check(results, base) {
  for (let i = 0; i < results.length; i++) if (results[i] !== i + base) throw new Error(`wrong result for job ${i}: ${results[i]}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function throughput(run, n) {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, (_, i) => run(i, 1)));
  const ms = performance.now() - t0;
  check(results, 1);
  return (n / ms) * 1000;
}

async function latency(run, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await run(i, 2);
    times.push((performance.now() - t0) * 1000);
    if (r !== i + 2) throw new Error(`wrong result for round trip ${i}: ${r}`);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

/**
 * Start-up, alternating the two: constructor → launch() → one job done on each worker (isolate-workgroup),
 * against two plain module workers answering one message each; each pool closed before the next. Every
 * start fetches the worker files again (the bench server sends no-store), for both alike.
 */
async function startup(modules, config, reps) {
  const ours = [];
  const raw = [];
  for (let rep = 0; rep <= reps; rep++) {
    let t0 = performance.now();
    const wg = new IsolateWorkgroup(WORKERS, { modules, ...config });
    await wg.launch();
    const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => wg.dispatch(new Add(i, 1), i)));
    const ms = performance.now() - t0;
    check(results, 1);
    await wg.shutdown();
    t0 = performance.now();
    const pool = new RawPool();
    await pool.start(WORKERS);
    const rawMs = performance.now() - t0;
    pool.close();
    if (rep > 0) {
      // rep 0 warms up (module fetch and compile caches of the page)
      ours.push(ms);
      raw.push(rawMs);
    }
  }
  return { ours: median(ours), raw: median(raw), samples: { ours, raw } };
}

window.runBench = async ({ smoke, config = {} }) => {
  const jobs = smoke ? 2_000 : 100_000;
  const trips = smoke ? 200 : 5_000;
  const reps = smoke ? 1 : 5;
  const modules = [new URL('./work.mjs', import.meta.url)];
  const started = await startup(modules, config, smoke ? 1 : 7);
  const wg = new IsolateWorkgroup(WORKERS, { modules, ...config });
  await wg.launch();
  // The same with the main thread's bounded spin off: waits for results with waitAsync at once.
  const noSpin = new IsolateWorkgroup(WORKERS, { modules, ...config, mainSpinMicros: 0 });
  await noSpin.launch();
  const raw = new RawPool();
  await raw.start(WORKERS);
  const libs = {
    'isolate-workgroup': (a, b) => wg.dispatch(new Add(a, b)),
    'isolate-workgroup, mainSpinMicros 0': (a, b) => noSpin.dispatch(new Add(a, b)),
    postMessage: (a, b) => raw.run(a, b),
  };
  const out = {};
  for (const name of Object.keys(libs)) out[name] = { throughput: [], p50: [], p99: [] };
  // Warm-up (JIT, worker start), then alternate the libraries so that drift hits both alike.
  for (const run of Object.values(libs)) {
    await throughput(run, Math.min(jobs, 5_000));
    await latency(run, Math.min(trips, 200));
  }
  // The same tiny jobs as one dispatchAll batch (isolate-workgroup's batch path).
  const batchAll = async (n) => {
    const t0 = performance.now();
    const results = await wg.dispatchAll(Array.from({ length: n }, (_, i) => new Add(i, 1)));
    const ms = performance.now() - t0;
    check(results, 1);
    return (n / ms) * 1000;
  };
  const batched = [];
  await batchAll(Math.min(jobs, 5_000));
  for (let rep = 0; rep < reps; rep++) {
    batched.push(await batchAll(jobs));
    for (const [name, run] of Object.entries(libs)) out[name].throughput.push(await throughput(run, jobs));
    for (const [name, run] of Object.entries(libs)) {
      const { p50, p99 } = await latency(run, trips);
      out[name].p50.push(p50);
      out[name].p99.push(p99);
    }
  }
  await wg.shutdown();
  await noSpin.shutdown();
  raw.close();
  const summary = {};
  for (const [name, m] of Object.entries(out)) {
    summary[name] = { throughput: median(m.throughput), p50: median(m.p50), p99: median(m.p99), samples: m };
  }
  summary['isolate-workgroup, dispatchAll'] = { throughput: median(batched), samples: { throughput: batched } };
  document.querySelector('#out').textContent = JSON.stringify(summary, null, 2);
  return {
    startup: started,
    jobs,
    trips,
    reps,
    workers: WORKERS,
    cores: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    crossOriginIsolated,
    summary,
  };
};
document.querySelector('#out').textContent = 'ready';
