// One library's start-up run, in a fresh process of its own (the first pool of a process pays for
// loading the library; later pools do not). Plain JavaScript run by plain `node`, so no loader hook
// slows the imports it measures. Started by suites/startup.ts as
//   node bench/suites/startup.child.mjs <library> <workers> <later pools> <big pool workers>
// and prints one JSON line: { first, later[], shutdown[], big, firstResult } in milliseconds.
//
// ready      = from just before the library is imported (first pool) or the pool is created (later
//              pools) until `workers` barrier jobs, which wait for each other, have all answered: proof
//              that that many threads are up and taking work at once.
// firstResult = from creating the pool until the result of one tiny job submitted right away, before
//              the pool is ready.
import { Worker } from 'node:worker_threads';

const [lib, workersArg, laterArg, bigArg] = process.argv.slice(2);
const workers = Number(workersArg);
const later = Number(laterArg);
const big = Number(bigArg);
const at = (file) => new URL(`../workers/${file}`, import.meta.url);
const now = () => performance.now();

/** Each opener imports its library (once), creates a pool and returns { run(op, a, b), close() }. */
const openers = {
  async 'isolate-workgroup'(n) {
    const [libm, work] = await Promise.all([import(process.env.DBG_LIB ?? new URL('../../dist/index.js', import.meta.url).href), import(at(process.env.DBG_WORK ?? 'workgroup.mjs').href)]);
    const wg = new libm.IsolateWorkgroup(n, { modules: [at(process.env.DBG_WORK ?? 'workgroup.mjs')] });
    wg.launch().catch(() => {}); // a failure surfaces through the jobs
    return {
      run: (op, a, b) => wg.dispatch(op === 'inc' ? new work.Inc(a) : new work.Barrier(a, b)),
      close: () => wg.shutdown(),
    };
  },
  async piscina(n) {
    const { Piscina } = await import('piscina');
    const pool = new Piscina({ filename: at('piscina.mjs').href, minThreads: n, maxThreads: n });
    return {
      run: (op, a, b) => (op === 'inc' ? pool.run(a, { name: 'inc' }) : pool.run({ sab: a, parties: b }, { name: 'barrierTask' })),
      close: () => pool.destroy(),
    };
  },
  async tinypool(n) {
    const { Tinypool } = await import('tinypool');
    const pool = new Tinypool({ filename: at('tinypool.mjs').href, minThreads: n, maxThreads: n });
    return {
      run: (op, a, b) => (op === 'inc' ? pool.run(a, { name: 'inc' }) : pool.run({ sab: a, parties: b }, { name: 'barrierTask' })),
      close: () => pool.destroy(),
    };
  },
  async workerpool(n) {
    const { default: workerpool } = await import('workerpool');
    const pool = workerpool.pool(at('workerpool.mjs').pathname, { minWorkers: n, maxWorkers: n, workerType: 'thread' });
    return {
      run: (op, a, b) => Promise.resolve(op === 'inc' ? pool.exec('inc', [a]) : pool.exec('barrierTask', [a, b])),
      close: async () => {
        await pool.terminate();
      },
    };
  },
  async poolifier(n) {
    const { FixedThreadPool } = await import('poolifier');
    const pool = new FixedThreadPool(n, at('poolifier.mjs').pathname, { errorHandler: () => {} });
    return {
      run: (op, a, b) => (op === 'inc' ? pool.execute(a, 'inc') : pool.execute({ sab: a, parties: b }, 'barrierTask')),
      // poolifier 5.3.2's destroy() sometimes never resolves after tasks that used Atomics.wait: bounded.
      close: () => Promise.race([pool.destroy(), new Promise((r) => setTimeout(r, 5000))]),
    };
  },
  // The hand-written pair: plain worker_threads, one postMessage per job each way (bench/workers/raw.mjs).
  async postMessage(n) {
    const threads = Array.from({ length: n }, () => new Worker(at('raw.mjs')));
    const pending = new Map();
    let next = 0;
    let rr = 0;
    for (const w of threads) {
      w.on('message', (m) => {
        if (!Array.isArray(m)) return; // the worker's 'ready'
        const p = pending.get(m[0]);
        pending.delete(m[0]);
        if (m[2] !== undefined) p?.reject(new Error(m[2]));
        else p?.resolve(m[1]);
      });
    }
    return {
      run(op, a, b) {
        const id = next++;
        const w = threads[rr++ % n];
        return new Promise((resolve, reject) => {
          pending.set(id, { resolve, reject });
          w.postMessage([id, op === 'inc' ? 0 : 3, a, b]);
        });
      },
      close: async () => {
        await Promise.all(threads.map((w) => w.terminate()));
      },
    };
  },
};

const open = openers[lib];
if (open === undefined) throw new Error(`startup.child: unknown library ${lib}`);

/** Opens a pool of n and waits for n barrier jobs; checks they ran on n distinct threads. */
async function ready(n) { console.error("ready", n);
  const t0 = now();
  const pool = await open(n);
  const sab = new SharedArrayBuffer(4);
  const ids = await Promise.all(Array.from({ length: n }, () => pool.run('barrier', sab, n)));
  const ms = now() - t0;
  if (new Set(ids).size !== n) throw new Error(`${lib}: barrier jobs ran on ${new Set(ids).size} distinct threads, expected ${n}`);
  const t1 = now();
  await pool.close();
  return { ms, shutdown: now() - t1 };
}

const first = await ready(workers);
const readyLater = [];
const shutdown = [];
for (let i = 0; i < later; i++) {
  await new Promise((r) => setTimeout(r, 20));
  const r = await ready(workers);
  readyLater.push(r.ms);
  shutdown.push(r.shutdown);
}
await new Promise((r) => setTimeout(r, 20));
const bigPool = await ready(big);
await new Promise((r) => setTimeout(r, 20));
console.error("firstResult"); const t0 = now();
const pool = await open(workers);
const value = await pool.run('inc', 41);
const firstResult = now() - t0;
await pool.close();
if (value !== 42) throw new Error(`${lib}: the first job answered ${value}, expected 42`);
process.stdout.write(`${JSON.stringify({ lib, first: first.ms, later: readyLater, shutdown, big: bigPool.ms, firstResult })}\n`);
