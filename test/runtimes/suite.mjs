// The runtime suite: the checks a new user makes on a runtime, plus one regression test per fault found
// on Bun, Deno and Firefox, as one plain script that runs unchanged on Node, Bun and Deno. Run by
// test/runtimes/run.mjs (which also checks that the process ends by itself afterwards):
//   node test/runtimes/suite.mjs [--entry=browser] [name-filter]
//   bun test/runtimes/suite.mjs
//   deno run --allow-read test/runtimes/suite.mjs [--entry=browser]
// Prints one line per check and ends with `suite: N passed, M failed`.
const args = (globalThis.Deno?.args ?? globalThis.process?.argv.slice(2) ?? []).slice();
const browserEntry = args.includes('--entry=browser');
const filter = args.find((a) => !a.startsWith('--'));
const runtime = globalThis.Bun ? `bun ${globalThis.Bun.version}` : globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : `node ${globalThis.process.versions.node}`;

const workUrl = new URL(browserEntry ? './work.mjs?entry=browser' : './work.mjs', import.meta.url);
const lib = await import(new URL(browserEntry ? '../../dist/index.browser.js' : '../../dist/index.js', import.meta.url).href);
const work = await import(workUrl.href);
const { IsolateWorkgroup } = lib;
const modules = [workUrl];

class AssertionError extends Error {}
function assert(condition, message) {
  if (!condition) throw new AssertionError(message);
}
function same(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${message}: expected ${e}, got ${a}`);
}
async function rejection(promise, what) {
  try {
    const value = await promise;
    throw new AssertionError(`${what} resolved with ${JSON.stringify(value)} instead of rejecting`);
  } catch (e) {
    if (e instanceof AssertionError) throw e;
    return e;
  }
}
/** Settles within `ms` or fails, naming what did not settle. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new AssertionError(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
/** Resolves when `cell[0]` becomes non-zero, or after `ms` (returns whether it did). */
async function waitForCell(cell, ms) {
  const end = performance.now() + ms;
  while (Atomics.load(cell, 0) === 0 && performance.now() < end) await delay(2);
  return Atomics.load(cell, 0) !== 0;
}

async function launched(n, config = {}) {
  const wg = new IsolateWorkgroup(n, { modules, ...config });
  await within(wg.launch(), 20_000, 'launch()');
  return wg;
}

/** Every check gets a fresh workgroup and shuts it down, whatever happens. */
async function withGroup(n, config, body) {
  const wg = await launched(n, config);
  try {
    return await body(wg);
  } finally {
    await within(wg.shutdown(), 20_000, 'shutdown()');
  }
}

const checks = {
  // ---------------------------------------------------------------- what a new user tries
  async launch() {
    return withGroup(2, {}, async (wg) => {
      same(wg.liveIsolateCount, 2, 'live workers after launch()');
      same(await wg.dispatch(new work.Add(1, 2)), 3, 'a first job');
      return { workers: wg.liveIsolateCount };
    });
  },

  async tenThousandJobs() {
    return withGroup(2, {}, async (wg) => {
      const n = 10_000;
      const got = await within(Promise.all(Array.from({ length: n }, (_, i) => wg.dispatch(new work.Add(i, i)))), 60_000, '10,000 jobs');
      for (let i = 0; i < n; i++) assert(got[i] === 2 * i, `job ${i}: expected ${2 * i}, got ${got[i]}`);
      return { jobs: n };
    });
  },

  async roundTrip() {
    return withGroup(1, {}, async (wg) => {
      const value = { text: 'grüße ✓', big: 2n ** 70n, date: new Date(0), map: new Map([[1, [true, null]]]), set: new Set(['a']), bytes: new Uint8Array([1, 2, 3]), nested: { deep: [1.5, -0, undefined] } };
      const back = await wg.dispatch(new work.Echo(value));
      same(back.text, value.text, 'a string');
      assert(back.big === value.big, 'a bigint');
      assert(back.date instanceof Date && back.date.getTime() === 0, 'a Date');
      assert(back.map instanceof Map && back.map.get(1)[0] === true, 'a Map');
      assert(back.set instanceof Set && back.set.has('a'), 'a Set');
      assert(back.bytes instanceof Uint8Array && back.bytes[2] === 3, 'a Uint8Array');
      assert(Object.is(back.nested.deep[1], -0) && back.nested.deep.length === 3, 'nested values');
      const times = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await wg.dispatch(new work.Add(i, 1));
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { medianRoundTripUs: Math.round(times[100] * 1000) };
    });
  },

  async member() {
    return withGroup(2, {}, async (wg) => {
      const m = await wg.addInstance(new work.Counter(10));
      const all = await Promise.all(Array.from({ length: 20 }, () => m.invoke(new work.Increment(1))));
      same(Math.max(...all), 30, 'twenty invokes');
      await wg.destroyInstance(m);
      same(wg.memberCount, 0, 'no member left');
      return { invokes: 20 };
    });
  },

  async customError() {
    return withGroup(1, {}, async (wg) => {
      const e = await rejection(wg.dispatch(new work.Fail()), 'a throwing job');
      assert(e instanceof work.ValidationError, `the work module's error class arrives (got ${e?.constructor?.name}: ${e?.message})`);
      same([e.message, e.field], ['bad e-mail address', 'email'], 'message and own property');
      return { name: e.name };
    });
  },

  async progress() {
    return withGroup(1, {}, async (wg) => {
      const seen = [];
      same(await wg.dispatch(new work.Progress(20), { onProgress: (v) => seen.push(v) }), 'finished', 'the result');
      same(seen, Array.from({ length: 20 }, (_, i) => i + 1), 'every report, in order, before the result');
      return { reports: seen.length };
    });
  },

  async zeroCopy16MiB() {
    return withGroup(1, {}, async (wg) => {
      const n = (16 << 20) / 8;
      const data = wg.allocate(Float64Array, n);
      for (let i = 0; i < n; i++) data[i] = 1;
      const times = [];
      let out;
      for (let run = 0; run < 3; run++) {
        data[0] = 1;
        const t = performance.now();
        out = await wg.dispatch(new work.SumAndMark(data));
        times.push(Math.round(performance.now() - t));
        same(out, { sum: n, shared: true }, `sum ${run + 1} of 16 MiB of ones`);
        same(data[0], -1, 'the worker wrote into the very memory main holds');
      }
      wg.release(data);
      return { sumsMs: times };
    });
  },

  async killQueuedThenAdd() {
    return withGroup(2, {}, async (wg) => {
      const jobs = Array.from({ length: 40 }, (_, i) => wg.dispatch(new work.Busy(5 + (i % 3))).then((v) => ({ ok: v }), (e) => ({ err: e })));
      await delay(20);
      await within(wg.kill(0), 10_000, 'kill(0) with jobs queued');
      const settled = await within(Promise.all(jobs), 20_000, 'the 40 jobs after kill(0)');
      const killed = settled.filter((s) => s.err);
      for (const s of killed) assert(s.err instanceof lib.WorkgroupJobAbortedException, `a job fails only as killed (got ${s.err?.name}: ${s.err?.message})`);
      const index = await within(wg.addIsolate(), 20_000, 'addIsolate()');
      same(index, 2, 'the new worker gets a new index');
      same(await wg.dispatch(new work.WhereAmI(), index), index, 'the new worker serves');
      const more = await within(Promise.all(Array.from({ length: 100 }, (_, i) => wg.dispatch(new work.Add(i, 0)))), 20_000, 'jobs after addIsolate');
      assert(more.every((v, i) => v === i), 'the jobs after addIsolate');
      return { ok: settled.length - killed.length, killed: killed.length };
    });
  },

  async shutdown() {
    const wg = await launched(2);
    const running = wg.dispatch(new work.Busy(30));
    await within(wg.shutdown({ drain: true }), 20_000, 'shutdown({ drain: true })');
    same(await running, 30, 'a job in flight at shutdown({ drain: true }) finishes');
    same(wg.liveIsolateCount, 0, 'no worker left');
    const late = await rejection(wg.dispatch(new work.Add(1, 1)), 'a dispatch after shutdown');
    assert(late instanceof lib.WorkgroupInactiveException, `refused as inactive (got ${late?.name})`);
    return {};
  },

  // ---------------------------------------------------------------- regressions, one per fault found
  /** Bun: an idle worker blocked in Atomics.wait, so a timer a job left behind never fired. */
  async timerLeftBehindFires() {
    return withGroup(1, {}, async (wg) => {
      const cell = new Int32Array(new SharedArrayBuffer(4));
      same(await wg.dispatch(new work.LeaveTimer(cell, 10)), 'scheduled', 'the job returns at once');
      const t = performance.now();
      assert(await waitForCell(cell, 3000), 'the timer the job left behind fired while the worker was idle');
      return { firedAfterMs: Math.round(performance.now() - t) };
    });
  },

  /** Everywhere: kill(i) rejected jobs that had already run (their results waited for a batched publish). */
  async killDeliversFinished() {
    return withGroup(2, {}, async (wg) => {
      let rounds = 0;
      let killedCount = 0;
      const live = [0, 1];
      for (; rounds < 3; rounds++) {
        const n = 3000;
        const flags = new Int32Array(new SharedArrayBuffer(4 * n));
        const jobs = Array.from({ length: n }, (_, i) => wg.dispatch(new work.Marked(flags, i, 0)).then((v) => ({ ok: v }), (e) => ({ err: e })));
        await delay(5);
        const victim = live.shift();
        await within(wg.kill(victim), 10_000, `kill(${victim}) during a stream of short jobs`);
        const settled = await within(Promise.all(jobs), 20_000, `the ${n} jobs`);
        for (let i = 0; i < n; i++) {
          const s = settled[i];
          if (s.ok !== undefined) {
            assert(s.ok === i, `job ${i} result`);
            continue;
          }
          killedCount++;
          assert(s.err instanceof lib.WorkgroupJobAbortedException, `job ${i} fails only as killed (got ${s.err?.name}: ${s.err?.message})`);
          assert(Atomics.load(flags, i) === 0, `job ${i} ran to its end, yet it was rejected as killed: its result was lost`);
        }
        live.push(await wg.addIsolate());
      }
      return { rounds, rejectedUnrun: killedCount };
    });
  },

  /** Deno: kill(0) let the thread go on claiming jobs after exit, so queued promises never settled. */
  async killWithQueueSettlesAll() {
    return withGroup(2, {}, async (wg) => {
      const live = [0, 1];
      // Short jobs: the worker acknowledges the stop. Long ones (past kill's grace): main closes the fence
      // and terminates a thread that Deno reports gone while it still runs its job.
      const rounds = [[40, 20], [40, 20], [10, 250]];
      let killed = 0;
      for (const [count, ms] of rounds) {
        const jobs = Array.from({ length: count }, () => wg.dispatch(new work.Busy(ms)).then(() => 'ok', () => 'killed'));
        await delay(30);
        const victim = live.shift();
        await within(wg.kill(victim), 10_000, `kill(${victim}) with ${count} jobs queued`);
        const settled = await within(Promise.all(jobs), 20_000, `every one of the ${count} jobs`);
        killed += settled.filter((s) => s === 'killed').length;
        assert(settled.filter((s) => s === 'ok').length >= count - 2, `the jobs not on the killed worker ran (${settled.join(',')})`);
        live.push(await wg.addIsolate());
        same(await within(Promise.all(Array.from({ length: 20 }, (_, i) => wg.dispatch(new work.Add(i, 1)))), 10_000, 'jobs after the kill'), Array.from({ length: 20 }, (_, i) => i + 1), 'jobs after the kill');
      }
      return { rounds: rounds.length, killed };
    });
  },

  /** Deno: a fresh SharedArrayBuffer failed with `unknown shared buffer #N` while the worker's event loop was busy. */
  async freshSharedBufferWhileBusy() {
    return withGroup(1, {}, async (wg) => {
      let done = 0;
      for (let i = 0; i < 10; i++) {
        const sleeping = wg.dispatch(new work.Sleep(30), 0); // the worker's event loop is busy with it
        sleeping.catch(() => {}); // awaited below; a failure above must not leave it unhandled
        await delay(2);
        const cells = new Int32Array(new SharedArrayBuffer(16));
        same(await within(wg.dispatch(new work.AddToShared(cells, 5), 0), 10_000, 'a job with a fresh SharedArrayBuffer'), 4, `job ${i}`);
        assert(cells.every((v) => v === 5), 'the worker wrote into the buffer');
        await sleeping;
        done++;
      }
      return { jobs: done };
    });
  },
};

let passed = 0;
let failed = 0;
const names = Object.keys(checks).filter((n) => !filter || n.includes(filter));
console.log(`runtime suite on ${runtime}, ${browserEntry ? 'browser' : 'Node'} entry`);
for (const name of names) {
  const t = performance.now();
  try {
    const detail = await within(checks[name](), 90_000, name);
    passed++;
    console.log(`ok   ${name.padEnd(26)} ${String(Math.round(performance.now() - t)).padStart(6)} ms  ${JSON.stringify(detail)}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name.padEnd(26)} ${String(Math.round(performance.now() - t)).padStart(6)} ms  ${e?.stack ?? e}`);
  }
}
console.log(`suite: ${passed} passed, ${failed} failed`);
// No process.exit(): the runner checks that the process ends by itself (no thread or handle left behind).
