// The browser start-up breakdown page (driven by bench/browser-startup.mjs): for each build of the
// library given, constructor → launch() → one job done on each of 2 workers, alternating with two plain
// module workers answering one message each, and the times of each phase of each worker:
//   main   new Worker called, 'started' and 'ready' received, launch() resolved, results received;
//   worker its time origin (the thread exists), every module fetch (resource timing), and the marks the
//          driver added to its copy of the build (the chunks and the entry evaluated, boot message
//          received, life lock taken, work modules imported, `ready` posted), the work module evaluated,
//          the job running.
// Everything is in milliseconds from the constructor call, on one clock (timeOrigin + now()).
const WORKERS = 2;
const abs = () => performance.timeOrigin + performance.now();

/** Stamps on the main thread, keyed by worker; filled by the Worker and MessageChannel wrappers below. */
let mainStamps = [];
let raw = false;
const NativeWorker = globalThis.Worker;
globalThis.Worker = class StampedWorker extends NativeWorker {
  constructor(url, options) {
    const at = abs();
    super(url, options);
    const entry = { url: String(url), spawn: at, created: abs() };
    mainStamps.push(entry);
    this.addEventListener('message', (e) => {
      if (e.data?.lifecycle === 'started') entry.started = abs();
      if (raw && entry.firstMessage === undefined) entry.firstMessage = abs();
    });
  }
};
// 'ready' travels on each worker's control channel (one MessageChannel per worker, made just before it).
const NativeChannel = globalThis.MessageChannel;
let readyAt = [];
globalThis.MessageChannel = class StampedChannel extends NativeChannel {
  constructor() {
    super();
    this.port1.addEventListener('message', (e) => {
      if (e.data?.type === 'ready') readyAt.push(abs());
    });
  }
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The page's resource timings since `t0` (a worker's top-level script and its static imports may land here), in ms from t0. */
function pageResources(t0) {
  const rel = (x) => Math.round((performance.timeOrigin + x - t0) * 100) / 100;
  const out = performance
    .getEntriesByType('resource')
    .filter((r) => r.startTime + performance.timeOrigin >= t0 - 1)
    .map((r) => ({ file: r.name.split('/').slice(-1)[0], start: rel(r.startTime), request: rel(r.requestStart), response: rel(r.responseStart), end: rel(r.responseEnd) }));
  performance.clearResourceTimings();
  return out;
}

async function startOurs(lib, work, t0) {
  mainStamps = [];
  readyAt = [];
  raw = false;
  const wg = new lib.IsolateWorkgroup(WORKERS, { modules: [work.url] });
  const ctor = abs();
  await wg.launch();
  const launched = abs();
  const stamps = await Promise.all(Array.from({ length: WORKERS }, (_, i) => wg.dispatch(new work.Stamp(), i)));
  const done = abs();
  const page = pageResources(t0);
  await wg.shutdown();
  return { ctor, launched, done, main: mainStamps, readyAt, stamps, page };
}

async function startRaw(t0) {
  mainStamps = [];
  raw = true;
  const workers = Array.from({ length: WORKERS }, () => new Worker(new URL('./raw-stamp.mjs', import.meta.url), { type: 'module' }));
  const stamps = await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          w.onmessage = (e) => resolve(e.data);
          w.postMessage(0);
        }),
    ),
  );
  const done = abs();
  performance.clearResourceTimings();
  for (const w of workers) w.terminate();
  raw = false;
  return { done, main: mainStamps, stamps };
}

/** One worker's phases, in ms from t0. */
function phases(t0, main, stamp) {
  const rel = (x) => (x === undefined ? undefined : Math.round((x - t0) * 100) / 100);
  const out = { spawn: rel(main?.spawn), spawned: rel(main?.created), origin: rel(stamp.origin), started: rel(main?.started) };
  for (const [name, at] of Object.entries(stamp.marks ?? {})) out[name] = rel(at);
  out.workEval = rel(stamp.workEval);
  out.exec = rel(stamp.exec);
  out.fetches = (stamp.resources ?? []).map((r) => ({ file: r.file, start: rel(stamp.origin + r.start), request: rel(stamp.origin + r.request), response: rel(stamp.origin + r.response), end: rel(stamp.origin + r.end) }));
  return out;
}

window.runStartup = async ({ variants, reps = 7 }) => {
  const libs = [];
  for (const v of variants) libs.push({ name: v.name, lib: await import(v.lib), work: { ...(await import(v.work)), url: new URL(v.work, location.href) } });
  const runs = Object.fromEntries([...variants.map((v) => v.name), 'raw'].map((n) => [n, []]));
  for (let rep = 0; rep <= reps; rep++) {
    // rep 0 warms up; the order of the builds rotates each repetition
    const order = libs.map((_, i) => libs[(i + rep) % libs.length]);
    for (const l of order) {
      const t0 = abs();
      const r = await startOurs(l.lib, l.work, t0);
      const run = {
        total: r.done - t0,
        ctor: r.ctor - t0,
        launched: r.launched - t0,
        readyMain: r.readyAt.map((x) => x - t0),
        workers: r.stamps.map((s, i) => phases(t0, r.main[i], s)),
        page: r.page,
      };
      if (rep > 0) runs[l.name].push(run);
      await new Promise((res) => setTimeout(res, 20));
      const t1 = abs();
      const q = await startRaw(t1);
      if (rep > 0) runs.raw.push({ total: q.done - t1, workers: q.stamps.map((s, i) => ({ ...phases(t1, q.main[i], s), message: Math.round((q.main[i].firstMessage - t1) * 100) / 100 })) });
      await new Promise((res) => setTimeout(res, 20));
    }
  }
  const summary = {};
  for (const [name, list] of Object.entries(runs)) {
    summary[name] = { total: median(list.map((r) => r.total)) };
    if (name !== 'raw') {
      summary[name].launched = median(list.map((r) => r.launched));
      summary[name].ctor = median(list.map((r) => r.ctor));
    }
    // per phase: median over runs of the later of the two workers
    const keys = new Set(list.flatMap((r) => r.workers.flatMap((w) => Object.keys(w).filter((k) => k !== 'fetches'))));
    for (const k of keys) {
      const vals = list.map((r) => Math.max(...r.workers.map((w) => w[k] ?? -Infinity))).filter((x) => Number.isFinite(x));
      if (vals.length) summary[name][k] = median(vals);
    }
    // fetches: per file, median start and end (later worker)
    const files = new Map();
    for (const r of list)
      for (const w of r.workers)
        for (const f of w.fetches) {
          if (!files.has(f.file)) files.set(f.file, { start: [], end: [] });
          files.get(f.file).start.push(f.start);
          files.get(f.file).end.push(f.end);
        }
    summary[name].fetches = Object.fromEntries([...files].map(([file, v]) => [file, [median(v.start), median(v.end)]]));
  }
  return { summary, runs, userAgent: navigator.userAgent, crossOriginIsolated };
};
document.querySelector('#out').textContent = 'ready';
