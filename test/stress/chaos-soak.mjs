// Chaos soak (seeded): random dispatch, invoke, addInstance, destroyInstance (also not awaited, with calls in
// flight), kill, addIsolate and probe, big payloads (>= 64 KiB non-shared buffers and arrays on the
// workgroup's shared memory, checksummed) and member notifyHost calls under load, with faults injected (process.exit in a job, a throw in a timer, a fatal error, out of
// memory, terminate() from outside, a hung worker), for a fixed time. Then it checks that every promise
// settled, every successful result is right, no job or call ran twice (per-op counters in a
// SharedArrayBuffer the jobs carry), the live-worker bookkeeping agrees with itself and the shared memory
// is back to where it started; it shuts down and leaves the process to exit on its own (the parent test
// checks that it does, at once).
//
//   node test/stress/chaos-soak.mjs --seconds 20 [--seed 123] [--quiet]   (needs a built dist/)
//   npm run soak -- --seconds 60                                            (builds, then runs this)
//
// Prints the seed first, progress every few seconds, and one final line `CHAOS-REPORT {json}`.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '20' }, seed: { type: 'string' }, quiet: { type: 'boolean', default: false } },
});
const SECONDS = Number(values.seconds);
if (!(SECONDS > 0)) throw new RangeError(`expected --seconds to be a positive number, got ${values.seconds}`);
const SEED = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 0xffffffff) >>> 0;
console.log(`[chaos-soak] seed ${SEED} (replay with --seed ${SEED}), ${SECONDS} s`);

const dist = new URL('../../dist/', import.meta.url);
const lib = await import(new URL('index.js', dist).href);
const { IsolateWorkgroup: BaseWorkgroup } = await import(new URL('api/workgroup.js', dist).href);
const { nodePlatform } = await import(new URL('workers/node-platform.js', dist).href);
const faultsUrl = new URL('../fixtures/faults.mjs', import.meta.url);
const F = await import(faultsUrl.href);

// xorshift32, seeded
let s = SEED || 0x9e3779b9;
const rnd = () => {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s / 0x100000000;
};
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
/** Random bytes of `length` (from the seeded generator) and their checksum. */
const bigBytes = (length) => {
  const u8 = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const w = (rnd() * 0x100000000) >>> 0;
    u8[i] = w;
    u8[i + 1] = w >>> 8;
    u8[i + 2] = w >>> 16;
    u8[i + 3] = w >>> 24;
  }
  return u8;
};

// A platform that keeps every worker's thread handle, so the soak can terminate() one from outside.
const handles = new Map();
const platform = {
  ...nodePlatform,
  spawn(options, events) {
    const h = nodePlatform.spawn(options, events);
    handles.set(options.init.index, h);
    return h;
  },
};

const wg = new BaseWorkgroup(
  3,
  {
    modules: [faultsUrl],
    concurrency: 2,
    queueCapacity: 256, // small: the main-thread backlog takes part too
    cancelGraceMs: 200,
    health: { enabled: true, pingTimeoutMs: 1000, stalenessThresholdMs: 1500, maxConsecutiveFailures: 2, checkBeforeDispatching: false },
    workerOptions: { resourceLimits: { maxOldGenerationSizeMb: 96 } },
  },
  platform,
);
const handled = { communication: 0, unknown: 0, initialization: 0, other: 0 };
wg.setErrorHandler(lib.IsolateErrorType.all, (_e, info) => {
  handled[info.type in handled ? info.type : 'other']++;
});
await wg.launch();
const memoryAtStart = wg.stats().sharedMemory;

const MAX_OPS = 4_000_000;
const runs = new Int32Array(new SharedArrayBuffer(4 * MAX_OPS)); // runs of op #k, counted by the worker
const outcome = new Uint8Array(MAX_OPS); // 0 pending, 1 ok, 2 rejected (expected), 3 wrong
let nextOp = 0;
const counts = { operations: 0, settled: 0, ok: 0, rejected: 0, wrong: 0, unexpected: 0 };
const byKind = {};
const faults = {};
const unexpectedSamples = [];
const inFlight = new Set();
const proxies = [];
const ALLOWED = [
  lib.WorkgroupMemberDeadException, // its worker crashed, hung or was replaced
  lib.WorkgroupJobAbortedException, // killed, aborted
  lib.WorkgroupTimeoutException, // timed out
  lib.WorkgroupMemberNotFoundException, // member destroyed or its worker killed
  lib.WorkgroupSetupException, // addIsolate whose worker died during setup
  lib.WorkgroupException, // invalid or removed index (kill, pinned dispatch)
];

function track(kind, promise, check, op = -1) {
  counts.operations++;
  byKind[kind] = (byKind[kind] ?? 0) + 1;
  const p = promise.then(
    (v) => {
      counts.settled++;
      if (check(v)) {
        counts.ok++;
        if (op >= 0) outcome[op] = 1;
      } else {
        counts.wrong++;
        if (op >= 0) outcome[op] = 3;
        if (unexpectedSamples.length < 10) unexpectedSamples.push(`${kind}: wrong result ${JSON.stringify(v)}`);
      }
    },
    (e) => {
      counts.settled++;
      if (op >= 0) outcome[op] = 2;
      if (ALLOWED.some((C) => e instanceof C)) counts.rejected++;
      else {
        counts.unexpected++;
        if (unexpectedSamples.length < 10) unexpectedSamples.push(`${kind}: ${e?.name}: ${e?.message}`);
      }
    },
  );
  inFlight.add(p);
  pendingInfo.set(p, `${kind}${op >= 0 ? ` #${op}` : ''}`);
  p.finally(() => {
    inFlight.delete(p);
    pendingInfo.delete(p);
  });
}
const pendingInfo = new Map();

const fault = (name) => (faults[name] = (faults[name] ?? 0) + 1);
const liveIndices = () => [...wg.healthStatus.keys()].filter((i) => wg.isIsolateHealthy(i));
const anyIndex = () => Math.floor(rnd() * (wg.isolatesCount + 2)) - 1; // includes -1 and invalid ones
const newOp = () => (nextOp < MAX_OPS ? nextOp++ : -1);
let bigInFlight = 0;
let hangs = 0;
let ooms = 0;
let adding = 0;

function step() {
  const r = rnd();
  const live = liveIndices();
  if (live.length < 2 && adding < 1) {
    adding++;
    track('addIsolate', wg.addIsolate().finally(() => adding--), (i) => Number.isInteger(i));
    return;
  }
  if (r < 0.42) {
    const op = newOp();
    if (op < 0) return;
    const value = Math.floor(rnd() * 1000);
    const kind = rnd();
    const job =
      kind < 0.6 ? new F.Counted(runs, op, value, rnd() < 0.1 ? 1 : 0)
      : kind < 0.85 ? new F.AsyncCounted(runs, op, value, Math.floor(rnd() * 3))
      : new F.Counted(runs, op, value, 0, 'x'.repeat(200 + Math.floor(rnd() * 2000))); // through the arena
    track('dispatch', wg.dispatch(job), (v) => v === value * 2 + 1, op);
  } else if (r < 0.5) {
    const op = newOp();
    if (op < 0) return;
    const value = Math.floor(rnd() * 1000);
    track('dispatch pinned', wg.dispatch(new F.Counted(runs, op, value), anyIndex()), (v) => v === value * 2 + 1, op);
  } else if (r < 0.55) {
    const op = newOp();
    if (op < 0) return;
    const value = Math.floor(rnd() * 1000);
    const c = new AbortController();
    const p = wg.dispatch(new F.Counted(runs, op, value, 2 + rnd() * 10), { timeout: Math.floor(rnd() * 15), signal: c.signal });
    if (rnd() < 0.5) setTimeout(() => c.abort(), Math.floor(rnd() * 10));
    track('dispatch cancelled', p, (v) => v === value * 2 + 1 || v === 'aborted', op);
  } else if (r < 0.57) {
    // Big payloads: a non-shared buffer >= 64 KiB (out of band through shared memory) or an array on the
    // workgroup's shared memory, to any worker, a pinned one, or a member; the answer is their checksum.
    if (bigInFlight >= 24) return;
    const op = newOp();
    if (op < 0) return;
    const u8 = bigBytes(64 * 1024 + Math.floor(rnd() * 64 * 1024));
    const sum = F.fnv1a(u8);
    let data = u8.buffer;
    let release = () => {};
    if (rnd() < 0.4) {
      try {
        const arr = wg.allocate(Uint8Array, u8.length);
        arr.set(u8);
        data = arr;
        release = () => wg.release(arr);
      } catch {
        // shared memory full right now: send the non-shared buffer instead
      }
    }
    const where = rnd();
    const p =
      where < 0.3 && proxies.length > 0
        ? pick(proxies).invoke(new F.SumBytes(runs, op, data))
        : wg.dispatch(new F.Checksummed(runs, op, data), where < 0.6 ? -1 : anyIndex());
    bigInFlight++;
    track('big payload', p.finally(() => (bigInFlight--, release())), (v) => v === sum, op);
  } else if (r < 0.72) {
    if (proxies.length === 0) return;
    const op = newOp();
    if (op < 0) return;
    const by = 1 + Math.floor(rnd() * 9);
    if (rnd() < 0.1) track('invoke notifyHost', pick(proxies).invoke(new F.AskHost(runs, op, by)), (v) => v === by * 5, op);
    else track('invoke', pick(proxies).invoke(new F.Add(runs, op, by)), (v) => v === by * 3, op);
  } else if (r < 0.77) {
    if (proxies.length > 40) return;
    const pinned = rnd() < 0.3 && live.length > 0 ? { isolate: pick(live) } : {};
    const onNotify = (cmd) => cmd.value * 5;
    track('addInstance', wg.addInstance(new F.Accumulator(rnd() < 0.2 ? 5 : 0), { ...pinned, onNotify }).then((p) => (proxies.push(p), true)), (v) => v === true);
  } else if (r < 0.8) {
    if (proxies.length === 0) return;
    const proxy = proxies.splice(Math.floor(rnd() * proxies.length), 1)[0];
    // Sometimes with big calls to it still on their way: they are rejected, their payload blocks freed.
    if (rnd() < 0.3) {
      for (let k = 0; k < 2; k++) {
        const op = newOp();
        if (op < 0) break;
        const u8 = bigBytes(80 * 1024);
        const sum = F.fnv1a(u8);
        track('big invoke then destroy', proxy.invoke(new F.SumBytes(runs, op, u8.buffer)), (v) => v === sum, op);
      }
    }
    track('destroyInstance', wg.destroyInstance(proxy).then(() => true), (v) => v === true);
  } else if (r < 0.86) {
    track('probe', wg.probe(anyIndex()), (v) => typeof v === 'boolean');
  } else if (r < 0.88) {
    if (live.length > 3) track('kill', wg.kill(pick(live)).then(() => true), (v) => v === true);
  } else if (r < 0.9) {
    if (live.length < 5 && adding < 2) {
      adding++;
      track('addIsolate', wg.addIsolate().finally(() => adding--), (i) => Number.isInteger(i));
    }
  } else if (r < 0.915) {
    // Faults. Each is a tracked operation too: it must settle like everything else.
    const f = rnd();
    const target = live.length > 0 ? pick(live) : -1;
    if (f < 0.3) {
      fault('process.exit in a job');
      track('fault', wg.dispatch(new F.ExitJob(3), target), () => false);
    } else if (f < 0.5) {
      fault('throw in a timer');
      track('fault', wg.dispatch(new F.ThrowInTimer(), target), (v) => v === 'scheduled');
    } else if (f < 0.65) {
      fault('fatal error');
      track('fault', wg.dispatch(new F.FatalError(), target), () => false);
    } else if (f < 0.9) {
      const h = target >= 0 ? handles.get(target) : undefined;
      if (h) {
        fault('terminate() from outside');
        track('fault', h.terminate().then(() => true), (v) => v === true);
      }
    } else if (f < 0.96 && ooms < 3 && target >= 0) {
      ooms++;
      fault('out of memory');
      track('fault', wg.dispatch(new F.Oom(), target), () => false);
    } else if (hangs < 2 && target >= 0) {
      hangs++;
      fault('hung worker');
      track('fault', wg.dispatch(new F.HangInTimer(), target), (v) => v === 'hanging soon');
    }
  }
}

const started = Date.now();
const end = started + SECONDS * 1000;
let lastReport = started;
while (Date.now() < end) {
  const budget = 64;
  for (let k = 0; k < budget && inFlight.size < 300; k++) step();
  // Let results, timers and control messages through.
  await new Promise((r) => setImmediate(r));
  if (inFlight.size >= 300) await Promise.race([...inFlight].slice(0, 32));
  if (!values.quiet && Date.now() - lastReport > 5000) {
    lastReport = Date.now();
    console.log(`[chaos-soak] ${((lastReport - started) / 1000).toFixed(0)} s: ${counts.operations} operations, ${counts.settled} settled, live ${wg.liveIsolateCount}/${wg.isolatesCount}, members ${wg.memberCount}`);
  }
}

// Every promise must settle: give them a bound, then count the ones that did not.
const SETTLE_MS = 60_000;
const settleBy = Date.now() + SETTLE_MS;
while (inFlight.size > 0 && Date.now() < settleBy) await Promise.race([Promise.race(inFlight), new Promise((r) => setTimeout(r, 100))]);
const lost = counts.operations - counts.settled;
const lostSamples = [...pendingInfo.values()].slice(0, 10);

// Per-op counters: a success ran exactly once; nothing ran twice.
let ranTwice = 0;
let okNotRunOnce = 0;
for (let k = 0; k < nextOp; k++) {
  if (runs[k] > 1) ranTwice++;
  if (outcome[k] === 1 && runs[k] !== 1) okNotRunOnce++; // jobs and commands count their run first
}

// Members: destroy what is left; the bookkeeping must agree with itself.
await Promise.allSettled(proxies.map((p) => wg.destroyInstance(p)));
// Quiescence: replacements may still be starting and a hung worker may still await its last probe; the
// views of the live workers must agree once that is over (bounded wait).
let live, status, statsWorkers, probedAlive;
for (const until = Date.now() + 30_000; ; ) {
  live = wg.liveIsolateCount;
  status = wg.healthStatus;
  statsWorkers = wg.stats().workers.length;
  const probes = await Promise.all(Array.from({ length: wg.isolatesCount }, (_, i) => wg.probe(i)));
  probedAlive = probes.filter(Boolean).length;
  const agree = status.size === live && statsWorkers === live && probedAlive === live && wg.liveIsolateCount === live;
  if (agree || Date.now() > until) break;
  await new Promise((r) => setTimeout(r, 500));
}
const memoryAtEnd = wg.stats().sharedMemory;
const pendingAtEnd = wg.pendingCount;
const isolatesCount = wg.isolatesCount;
await wg.shutdown();

const report = {
  seed: SEED,
  seconds: SECONDS,
  operations: counts.operations,
  settled: counts.settled,
  lost,
  lostSamples,
  ok: counts.ok,
  rejectedAsExpected: counts.rejected,
  wrongResults: counts.wrong,
  unexpectedErrors: counts.unexpected,
  unexpectedSamples,
  ranTwice,
  okNotRunOnce,
  byKind,
  faultsInjected: Object.values(faults).reduce((a, n) => a + n, 0),
  faults,
  handlersFired: handled,
  isolatesCount,
  liveAtEnd: live,
  healthEntriesAtEnd: status.size,
  statsWorkersAtEnd: statsWorkers,
  probedAliveAtEnd: probedAlive,
  pendingAtEnd,
  liveAfterShutdown: wg.liveIsolateCount,
  sharedMemoryAtStart: memoryAtStart,
  sharedMemoryAtEnd: memoryAtEnd,
};
console.log(`CHAOS-REPORT ${JSON.stringify(report)}`);
console.log(`[chaos-soak] ${report.operations} operations, ${report.faultsInjected} faults injected, ${report.settled} settled, ${report.lost} lost`);
console.log('CHAOS-SHUTDOWN-DONE');
// No process.exit(): with every thread gone and nothing pending, the process must end by itself now.
