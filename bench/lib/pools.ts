/**
 * One adapter per library, so every suite runs the same work through each of them:
 * isolate-workgroup (the built dist/), piscina, tinypool, workerpool, poolifier, and a raw postMessage
 * baseline written here (two plain Workers, one message per job each way, no library).
 *
 * Every pool is created with its library's defaults except the worker count. The work itself lives
 * in bench/workers/tasks.mjs; each library's worker file wraps it in that library's form.
 *
 * What "increment" (the member-call row) means per library:
 * - isolate-workgroup: a real member — `addInstance(new Counter())` on worker 0, then
 *   `proxy.invoke(new Increment())`, an RPC to that one stateful object.
 * - piscina, tinypool, workerpool, poolifier: no members; a task that bumps a counter kept in the
 *   worker's module state, on whichever worker the pool picks (workerpool's `exec('increment')`).
 * - raw postMessage: a message to worker 0, which keeps the counter.
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { FixedThreadPool } from 'poolifier';
import type * as Lib from '../../src/index.js';

export const LIBRARIES = ['isolate-workgroup', 'piscina', 'tinypool', 'workerpool', 'poolifier', 'postMessage'] as const;
export type LibName = (typeof LIBRARIES)[number];
export const PEERS: readonly LibName[] = ['piscina', 'tinypool', 'workerpool', 'poolifier'];
export const OURS: LibName = 'isolate-workgroup';
export const RAW: LibName = 'postMessage';

/** What a suite can ask of any library. Every method resolves with the job's result. */
export interface BenchPool {
  readonly name: LibName;
  /** Tiny job: resolves with x + 1. */
  inc(x: number): Promise<number>;
  /** Busy-waits `us` µs in a worker, resolves with `id`. */
  spin(us: number, id: number): Promise<number>;
  /** One of `parties` jobs that wait for each other; resolves with the worker's thread id. */
  barrier(sab: SharedArrayBuffer, parties: number): Promise<number>;
  /** A call to stateful worker-side state; resolves with [which counter, its new value]. */
  increment(): Promise<readonly [number, number]>;
  /** isolate-workgroup only: the tiny jobs `xs` as one batch (`dispatchAll`); resolves with every x + 1. */
  incAll?(xs: readonly number[]): Promise<number[]>;
  /** isolate-workgroup only: busy-wait jobs of `us` µs as one `dispatchAll` batch (results: the ids). */
  spinAll?(us: number, ids: readonly number[]): Promise<number[]>;
  close(): Promise<void>;
}

const worker = (file: string): URL => new URL(`../workers/${file}`, import.meta.url);

/** How long a library's own close may take before the bench terminates its threads itself. */
const CLOSE_BOUND_MS = 5_000;
const stalls: string[] = [];

/** Close stalls since the last call (the runner adds them to the suite's notes). */
export function takeCloseStalls(): string[] {
  return stalls.splice(0);
}

/**
 * Awaits a library's close, at most CLOSE_BOUND_MS; past that, records the stall and terminates the
 * threads with `force`. (poolifier 5.3.2's destroy() sometimes never resolves after tasks that used
 * Atomics.wait; without the bound the bench would hang, or exit with an unsettled await.)
 */
async function bounded(lib: LibName, closing: Promise<unknown>, force: () => Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_BOUND_MS)));
  const outcome = await Promise.race([closing.then(() => 'closed' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    stalls.push(`${lib}: its close did not resolve within ${CLOSE_BOUND_MS / 1000} s; the bench terminated its threads`);
    await force();
  }
}
const COUNTER_BITS = 2 ** 21;
const splitCounter = (v: number): readonly [number, number] => [Math.floor(v / COUNTER_BITS), v % COUNTER_BITS];

let libPromise: Promise<typeof Lib> | undefined;
/** The built library (dist/): the bench's work module imports dist/ too, so both sides share one instance. */
export function loadLibrary(): Promise<typeof Lib> {
  libPromise ??= import(new URL('../../dist/index.js', import.meta.url).href) as Promise<typeof Lib>;
  return libPromise;
}

interface WorkModule {
  Inc: new (x: number) => Lib.WorkgroupJob<number>;
  Spin: new (us: number, id: number) => Lib.WorkgroupJob<number>;
  Barrier: new (sab: SharedArrayBuffer, parties: number) => Lib.WorkgroupJob<number>;
  Counter: new () => Lib.WorkgroupMember;
  Increment: new () => Lib.WorkerCommand<number>;
}

let workPromise: Promise<WorkModule> | undefined;
function loadWork(): Promise<WorkModule> {
  workPromise ??= import(worker('workgroup.mjs').href) as Promise<WorkModule>;
  return workPromise;
}

export interface OpenOptions {
  /** isolate-workgroup only: extra config (the bench measures the defaults unless a row says otherwise). */
  readonly config?: Lib.WorkgroupConfig;
}

/**
 * Creates a pool of `workers` threads and waits for what the library itself calls ready:
 * `launch()` for isolate-workgroup, the `ready` event for poolifier, the workers' first message for
 * raw postMessage; piscina, tinypool and workerpool start their threads in the constructor and have no
 * ready signal (the start-up suite measures all of them the same way, with a barrier job).
 */
export async function openPool(name: LibName, workers: number, options: OpenOptions = {}): Promise<BenchPool> {
  switch (name) {
    case 'isolate-workgroup':
      return openWorkgroup(workers, options.config ?? {});
    case 'piscina':
      return openPiscina(workers);
    case 'tinypool':
      return openTinypool(workers);
    case 'workerpool':
      return openWorkerpool(workers);
    case 'poolifier':
      return openPoolifier(workers);
    case 'postMessage':
      return openRaw(workers);
  }
}

async function openWorkgroup(workers: number, config: Lib.WorkgroupConfig): Promise<BenchPool> {
  const [lib, work] = await Promise.all([loadLibrary(), loadWork()]);
  const wg = new lib.IsolateWorkgroup(workers, { modules: [worker('workgroup.mjs')], ...config });
  await wg.launch();
  let member: Promise<Lib.MemberProxy> | undefined;
  const increment = new work.Increment();
  return {
    name: 'isolate-workgroup',
    inc: (x) => wg.dispatch(new work.Inc(x)),
    incAll: (xs) => wg.dispatchAll(xs.map((x) => new work.Inc(x))),
    spinAll: (us, ids) => wg.dispatchAll(ids.map((id) => new work.Spin(us, id))),
    spin: (us, id) => wg.dispatch(new work.Spin(us, id)),
    barrier: (sab, parties) => wg.dispatch(new work.Barrier(sab, parties)),
    async increment() {
      member ??= wg.addInstance(new work.Counter(), { isolate: 0 });
      const proxy = await member;
      const count = await proxy.invoke(increment);
      return [proxy.memberId, count];
    },
    close: () => wg.shutdown(),
  };
}

async function openPiscina(workers: number): Promise<BenchPool> {
  const pool = new Piscina({ filename: worker('piscina.mjs').href, minThreads: workers, maxThreads: workers });
  return {
    name: 'piscina',
    inc: (x) => pool.run(x, { name: 'inc' }) as Promise<number>,
    spin: (us, id) => pool.run({ us, id }, { name: 'spinTask' }) as Promise<number>,
    barrier: (sab, parties) => pool.run({ sab, parties }, { name: 'barrierTask' }) as Promise<number>,
    increment: async () => splitCounter((await pool.run(null, { name: 'increment' })) as number),
    close: () => pool.destroy(),
  };
}

async function openTinypool(workers: number): Promise<BenchPool> {
  const pool = new Tinypool({ filename: worker('tinypool.mjs').href, minThreads: workers, maxThreads: workers });
  return {
    name: 'tinypool',
    inc: (x) => pool.run(x, { name: 'inc' }) as Promise<number>,
    spin: (us, id) => pool.run({ us, id }, { name: 'spinTask' }) as Promise<number>,
    barrier: (sab, parties) => pool.run({ sab, parties }, { name: 'barrierTask' }) as Promise<number>,
    increment: async () => splitCounter((await pool.run(null, { name: 'increment' })) as number),
    close: () => pool.destroy(),
  };
}

async function openWorkerpool(workers: number): Promise<BenchPool> {
  const pool = workerpool.pool(worker('workerpool.mjs').pathname, { minWorkers: workers, maxWorkers: workers, workerType: 'thread' });
  // workerpool's promises are its own thenables; wrap them so every suite sees native promises.
  const exec = <T>(method: string, args: unknown[]): Promise<T> => Promise.resolve(pool.exec(method, args) as PromiseLike<T>);
  return {
    name: 'workerpool',
    inc: (x) => exec<number>('inc', [x]),
    spin: (us, id) => exec<number>('spinTask', [us, id]),
    barrier: (sab, parties) => exec<number>('barrierTask', [sab, parties]),
    increment: async () => splitCounter(await exec<number>('increment', [])),
    close: async () => {
      await pool.terminate();
    },
  };
}

async function openPoolifier(workers: number): Promise<BenchPool> {
  const pool = new FixedThreadPool<unknown, number>(workers, worker('poolifier.mjs').pathname, { errorHandler: () => {} });
  if (!pool.info.ready) await new Promise<void>((resolve) => pool.emitter?.once('ready', () => resolve()));
  return {
    name: 'poolifier',
    inc: (x) => pool.execute(x, 'inc'),
    spin: (us, id) => pool.execute({ us, id }, 'spinTask'),
    barrier: (sab, parties) => pool.execute({ sab, parties }, 'barrierTask'),
    increment: async () => splitCounter(await pool.execute(undefined, 'increment')),
    close: () =>
      bounded('poolifier', pool.destroy(), () => Promise.all(pool.workerNodes.map((n) => (n.worker as unknown as { terminate(): Promise<number> }).terminate()))),
  };
}

/**
 * The baseline: what a careful user writes by hand with worker_threads. Each job is one postMessage to
 * the worker with the fewest jobs outstanding, each answer one postMessage back, matched by id.
 */
async function openRaw(count: number): Promise<BenchPool> {
  type Pending = { resolve: (v: number) => void; reject: (e: Error) => void };
  const threads: { w: Worker; outstanding: number; pending: Map<number, Pending> }[] = [];
  let nextId = 0;
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const w = new Worker(worker('raw.mjs'));
    const t = { w, outstanding: 0, pending: new Map<number, Pending>() };
    ready.push(
      new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      }),
    );
    w.on('message', (m: unknown) => {
      if (!Array.isArray(m)) return;
      const [id, value, error] = m as [number, number, string | undefined];
      const p = t.pending.get(id);
      if (!p) return;
      t.pending.delete(id);
      t.outstanding--;
      if (error !== undefined) p.reject(new Error(error));
      else p.resolve(value);
    });
    w.on('error', (e) => {
      for (const p of t.pending.values()) p.reject(e);
      t.pending.clear();
    });
    threads.push(t);
  }
  await Promise.all(ready);
  const send = (target: (typeof threads)[number] | undefined, op: number, a?: unknown, b?: unknown): Promise<number> => {
    let t = target;
    if (t === undefined) {
      t = threads[0]!;
      for (const c of threads) if (c.outstanding < t.outstanding) t = c;
    }
    const id = nextId++;
    t.outstanding++;
    const chosen = t;
    return new Promise<number>((resolve, reject) => {
      chosen.pending.set(id, { resolve, reject });
      chosen.w.postMessage([id, op, a, b]);
    });
  };
  return {
    name: 'postMessage',
    inc: (x) => send(undefined, 0, x),
    spin: (us, id) => send(undefined, 1, us, id),
    barrier: (sab, parties) => send(undefined, 3, sab, parties),
    increment: async () => splitCounter(await send(threads[0], 2)),
    close: async () => {
      await Promise.all(threads.map((t) => t.w.terminate()));
    },
  };
}
