// The browser tests: each runs inside the page, asserts there, and leaves its outcome in
// `window.__result = { ok, detail }` (or `{ ok: false, error }`) for test/browser/run.mjs.
// The page runs the test named by `?test=`.
import * as lib from '../../../dist/index.browser.js';
import * as work from './work.mjs';

const { IsolateWorkgroup, CallbackWorkgroup, IsolateErrorType, WorkgroupException } = lib;
const modules = [new URL('./work.mjs', import.meta.url)];

class AssertionError extends Error {}

function assert(condition, message) {
  if (!condition) throw new AssertionError(message);
}

function same(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${message}: expected ${e}, got ${a}`);
}

/** The rejection of `promise` (fails when it resolves). */
async function rejection(promise, what) {
  try {
    const value = await promise;
    throw new AssertionError(`${what} resolved with ${JSON.stringify(value)} instead of rejecting`);
  } catch (e) {
    if (e instanceof AssertionError) throw e;
    return e;
  }
}

/** Settles within `ms` or fails with a clear message. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new AssertionError(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

async function launched(n, config = {}) {
  const wg = new IsolateWorkgroup(n, { modules, ...config });
  await within(wg.launch(), 10_000, 'launch()');
  return wg;
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Does a stack taken in a promise reaction list the async function awaiting it (V8 does, SpiderMonkey not)? */
async function engineHasAsyncStacks() {
  let site = '';
  async function asyncStackProbe() {
    await Promise.resolve().then(() => {
      site = new Error('probe').stack ?? '';
    });
  }
  await asyncStackProbe();
  return site.includes('asyncStackProbe');
}

const tests = {
  async isolation() {
    assert(globalThis.crossOriginIsolated === true, 'the page is cross-origin isolated');
    assert(typeof SharedArrayBuffer === 'function', 'SharedArrayBuffer exists');
    // `?waitAsync=absent`: the run on an engine without it (Firefox ESR 140, or waitAsync removed first).
    const absent = new URL(location.href).searchParams.get('waitAsync') === 'absent';
    assert((typeof Atomics.waitAsync === 'function') === !absent, absent ? 'Atomics.waitAsync is missing on this run' : 'the main thread has Atomics.waitAsync');
    let threw = false;
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
    } catch {
      threw = true;
    }
    assert(threw, 'Atomics.wait is refused on the main thread (so the library must never call it there)');
    return { crossOriginIsolated: true };
  },

  async dispatch() {
    const wg = await launched(2);
    try {
      const n = 2000;
      const results = await within(Promise.all(Array.from({ length: n }, (_, i) => wg.dispatch(new work.Add(i, 1)))), 20_000, 'the jobs');
      for (let i = 0; i < n; i++) assert(results[i] === i + 1, `job ${i}: expected ${i + 1}, got ${results[i]}`);
      same(await wg.dispatch(new work.WhereAmI(), 1), 1, 'a job pinned to worker 1 runs there');
      same(await wg.dispatch(new work.WhereAmI(), { isolate: 0 }), 0, 'a job pinned with { isolate: 0 } runs there');
      const stats = wg.stats();
      const done = stats.workers.reduce((sum, w) => sum + w.jobsDone, 0);
      assert(done >= n + 2, `stats count the jobs (got ${done})`);
      assert(wg.pendingCount === 0, 'nothing pending afterwards');
      return { jobs: n, perWorker: stats.workers.map((w) => w.jobsDone) };
    } finally {
      await wg.shutdown();
    }
  },

  async text() {
    // Chromium refuses shared views in TextEncoder.encodeInto / TextDecoder.decode: every string below
    // crosses shared memory (queue cells, lanes, the arena for the big one) in both directions.
    const wg = await launched(1);
    try {
      const strings = [
        'héllo',
        'Ünïcödé ✓ ',
        '日本語のテキスト',
        '😀 emoji 👩‍👩‍👧 family',
        'a long line with one non-ASCII char at the end, long enough for TextEncoder: €',
        'x'.repeat(5000),
        '€'.repeat(3000),
        '\ud800 lone surrogate',
        'ascii only but longer than the TextEncoder threshold, so it takes the native path',
        'mixed ' + 'Grüße 🌍 '.repeat(40_000), // ~400 KB of UTF-8: larger than a ring, goes through the arena
      ];
      for (const s of strings) {
        const got = await wg.dispatch(new work.EchoText(s));
        assert(got.value === s, `round trip of a ${s.length}-character string starting ${JSON.stringify(s.slice(0, 12))}`);
        same(got.length, s.length, 'length seen in the worker');
        same(got.codePoints, [...s].length, 'code points seen in the worker');
      }
      const map = await wg.dispatch(new work.EchoText(new Map([['schlüssel', 'wert ✓'], ['🔑', ['ä', 'ö']]])));
      assert(map.value instanceof Map && map.value.get('schlüssel') === 'wert ✓' && map.value.get('🔑')[1] === 'ö', 'non-ASCII map keys and values');
      same(await wg.dispatch(new work.Grüße('Welt')), 'Grüße, Welt! Grüße', 'a class with a non-ASCII export name');
      return { strings: strings.length + 2 };
    } finally {
      await wg.shutdown();
    }
  },

  async members() {
    const wg = await launched(2);
    try {
      const asked = [];
      const a = await wg.addInstance(new work.Counter(10), {
        onNotify: async (cmd) => {
          asked.push(cmd.question);
          await delay(1);
          return `answer to ${cmd.question}`;
        },
      });
      const b = await wg.addInstance(new work.Counter(0));
      assert(a.workerIndex !== b.workerIndex, 'members are spread over the workers');
      const incs = await Promise.all(Array.from({ length: 50 }, () => a.invoke(new work.Increment(2))));
      same(Math.max(...incs), 110, 'fifty invokes in flight, matched by id');
      same(await a.invoke(new work.Get()), { count: 110, setupRan: true, where: a.workerIndex }, 'member state and setup()');
      same(await a.invoke(new work.Ask('ü?')), 'answer to ü?', 'notifyHost reaches onNotify and returns its answer');
      same(asked, ['ü?'], 'onNotify ran once');
      const noHandler = await rejection(b.invoke(new work.Ask('anyone?')), 'notifyHost without onNotify');
      assert(noHandler instanceof Error, 'notifyHost without onNotify rejects');
      await wg.destroyInstance(a);
      const gone = await rejection(a.invoke(new work.Get()), 'invoke after destroyInstance');
      assert(gone instanceof lib.WorkgroupMemberNotFoundException, `a destroyed member is not found (${gone?.name})`);
      same(await wg.dispatch(new work.DisposedCount(), a.workerIndex), 1, 'dispose() ran in the worker');
      same(wg.memberCount, 1, 'one member left');
      return { invokes: 53 };
    } finally {
      await wg.shutdown();
    }
  },

  async controlWhileBusy() {
    // A browser worker reads control messages only in its event loop: a member added while the
    // worker streams synchronous jobs must still be set up.
    const wg = await launched(1);
    try {
      const stream = Array.from({ length: 20_000 }, (_, i) => wg.dispatch(new work.Add(i, i)));
      const member = await within(wg.addInstance(new work.Counter(5)), 10_000, 'addInstance during a stream of jobs');
      same(await member.invoke(new work.Increment(1)), 6, 'the member works');
      const sums = await within(Promise.all(stream), 20_000, 'the stream');
      assert(sums.every((v, i) => v === 2 * i), 'the stream results');
      return { streamed: sums.length };
    } finally {
      await wg.shutdown();
    }
  },

  async errors() {
    const wg = await launched(1);
    try {
      const handled = [];
      wg.setErrorHandler(IsolateErrorType.job, (error, info) => handled.push({ name: error.name, index: info.isolateIndex }));
      const custom = await rejection(wg.dispatch(new work.Throw('custom')), 'a throwing job');
      assert(custom instanceof work.ValidationError, `the work module's error class survives (got ${custom?.constructor?.name})`);
      same(custom.message, 'bad e-mail address ✉', 'message');
      same(custom.field, 'email', 'own property');
      assert(custom.stack.includes('Stack trace in worker'), 'the stack has the worker section');
      assert(custom.stack.includes('Stack trace in main'), 'the stack has the main section');
      assert(/work\.mjs/.test(custom.stack.split('Stack trace in main')[0]), 'the worker section names the work module');
      if (await engineHasAsyncStacks()) {
        assert(/tests\.mjs/.test(custom.stack.split('Stack trace in main')[1]), `the main section names the calling module:\n${custom.stack}`);
      } else {
        // SpiderMonkey keeps no async stack outside devtools: the lazy main section cannot see the caller.
        // `captureMainStack: 'eager'` takes it at the call instead.
        const eager = await launched(1, { captureMainStack: 'eager' });
        try {
          const e = await rejection(eager.dispatch(new work.Throw('custom')), 'a throwing job (eager stacks)');
          assert(/tests\.mjs/.test(e.stack.split('Stack trace in main')[1]), `with captureMainStack 'eager' the main section names the calling module:\n${e.stack}`);
        } finally {
          await eager.shutdown();
        }
      }
      const type = await rejection(wg.dispatch(new work.Throw('type')), 'a TypeError');
      assert(type instanceof TypeError && type.message === 'not a number', 'built-in error classes survive');
      await delay(0);
      same(handled, [{ name: 'ValidationError', index: 0 }, { name: 'TypeError', index: 0 }], 'the job handler fired once per error');
      return { stackLines: custom.stack.split('\n').length };
    } finally {
      await wg.shutdown();
    }
  },

  async uncaught() {
    const wg = await launched(1);
    try {
      const seen = [];
      wg.setErrorHandler(IsolateErrorType.unknown, (error) => seen.push(error.message));
      same(await wg.dispatch(new work.ThrowInTimer()), 'scheduled', 'the job itself succeeds');
      // The worker is idle (parked with waitAsync, so its timers run): the timer's error reaches `unknown`.
      for (let i = 0; i < 200 && seen.length === 0; i++) await delay(10);
      same(seen, ['boom from a timer'], 'the uncaught error reached the unknown handler');
      same(await wg.dispatch(new work.Add(1, 2)), 3, 'the worker keeps serving');
      return {};
    } finally {
      await wg.shutdown();
    }
  },

  async killAndAdd() {
    const wg = await launched(2);
    try {
      assert((await wg.probe(1)) === true, 'worker 1 answers a probe');
      const long = wg.dispatch(new work.Busy(60_000), 1);
      long.catch(() => {});
      await delay(50);
      assert((await wg.probe(1)) === true, 'a worker busy in a job is alive');
      await within(wg.kill(1), 10_000, 'kill(1) of a worker busy in a job');
      const killed = await rejection(long, 'the job running on the killed worker');
      assert(killed instanceof lib.WorkgroupJobAbortedException, `rejected as aborted (got ${killed?.name})`);
      assert(/Isolate #1 was killed/.test(killed.message), `the message says so: ${killed.message}`);
      same(wg.liveIsolateCount, 1, 'one worker left');
      same(await wg.probe(1), false, 'a killed worker does not answer');
      const pinned = await rejection(wg.dispatch(new work.Add(1, 1), 1), 'a job pinned to the killed worker');
      assert(pinned instanceof WorkgroupException, 'a dead index is refused');
      const index = await wg.addIsolate();
      same(index, 2, 'a new worker gets a new index');
      same(wg.isolatesCount, 3, 'indices are never reused');
      same(await wg.dispatch(new work.WhereAmI(), 2), 2, 'the new worker serves');
      const all = await Promise.all(Array.from({ length: 200 }, (_, i) => wg.dispatch(new work.Add(i, 0))));
      assert(all.every((v, i) => v === i), 'the queue is served by the workers left');
      return { live: wg.liveIsolateCount };
    } finally {
      await wg.shutdown();
    }
  },

  async killDeliversFinished() {
    // kill(i) during a stream of short jobs, with jobs still queued: every job settles, a job that ran
    // to its end delivers its result (it used to be rejected as killed while its result waited for a
    // batched publish), the others fail only as killed; then addIsolate() and the queue is served again.
    const wg = await launched(2);
    try {
      const live = [0, 1];
      let rejected = 0;
      for (let round = 0; round < 3; round++) {
        const n = 3000;
        const flags = new Int32Array(new SharedArrayBuffer(4 * n));
        const jobs = Array.from({ length: n }, (_, i) => wg.dispatch(new work.Marked(flags, i)).then((v) => ({ ok: v }), (e) => ({ err: e })));
        await delay(5);
        const victim = live.shift();
        await within(wg.kill(victim), 10_000, `kill(${victim}) during a stream of jobs`);
        const settled = await within(Promise.all(jobs), 20_000, `the ${n} jobs`);
        for (let i = 0; i < n; i++) {
          const s = settled[i];
          if (s.ok !== undefined) {
            assert(s.ok === i, `job ${i} result`);
            continue;
          }
          rejected++;
          assert(s.err instanceof lib.WorkgroupJobAbortedException, `job ${i} fails only as killed (got ${s.err?.name}: ${s.err?.message})`);
          assert(Atomics.load(flags, i) === 0, `job ${i} ran to its end, yet it was rejected as killed: its result was lost`);
        }
        live.push(await within(wg.addIsolate(), 10_000, 'addIsolate()'));
        same(await wg.dispatch(new work.WhereAmI(), live[1]), live[1], 'the new worker serves');
      }
      return { rounds: 3, rejectedUnrun: rejected };
    } finally {
      await wg.shutdown();
    }
  },

  async workerDeath() {
    // No exit event in browsers: a worker that closes itself inside a job must still be noticed.
    const wg = await launched(2, { respawn: true });
    try {
      const comms = [];
      wg.setErrorHandler(IsolateErrorType.communication, (error, info) => comms.push(info.isolateIndex));
      const dying = await within(rejection(wg.dispatch(new work.CloseMyWorker(), 0), 'a job whose worker closes itself'), 10_000, 'the death');
      assert(dying instanceof lib.WorkgroupMemberDeadException, `rejected as member-dead (got ${dying?.name}: ${dying?.message})`);
      same(dying.isolateIndex, 0, 'names the worker');
      same(comms, [0], 'the communication handler fired once');
      for (let i = 0; i < 200 && wg.liveIsolateCount < 2; i++) await delay(10);
      same(wg.liveIsolateCount, 2, 'respawn replaced it');
      const where = new Set(await Promise.all(Array.from({ length: 100 }, () => wg.dispatch(new work.WhereAmI()))));
      assert(!where.has(0), 'the dead index gets no work');
      return { servedBy: [...where] };
    } finally {
      await wg.shutdown();
    }
  },

  async mainNeverWaits() {
    // Atomics.wait throws on a page's main thread. Spy on it while the lane to a busy worker fills up
    // (pinned jobs with 2 KB payloads: the 64 KB direct ring overflows into main's backlog) and while
    // results pour in: the main thread must never try to block.
    const realWait = Atomics.wait;
    let calls = 0;
    Atomics.wait = function (...args) {
      calls++;
      return realWait.apply(this, args);
    };
    const wg = await launched(2);
    try {
      const busy = wg.dispatch(new work.Busy(300), 0);
      const text = 'ü'.repeat(1000);
      const pinned = Array.from({ length: 400 }, (_, i) => wg.dispatch(new work.EchoText(`${i}:${text}`), 0));
      const shared = Array.from({ length: 20_000 }, (_, i) => wg.dispatch(new work.Add(i, 1)));
      same(await busy, 'done', 'the busy job');
      const echoed = await within(Promise.all(pinned), 20_000, 'the pinned jobs');
      assert(echoed.every((r, i) => r.value === `${i}:${text}`), 'pinned results in order');
      const sums = await within(Promise.all(shared), 20_000, 'the shared jobs');
      assert(sums.every((v, i) => v === i + 1), 'shared results');
      same(calls, 0, 'Atomics.wait calls on the main thread');
      return { pinned: pinned.length, shared: shared.length };
    } finally {
      Atomics.wait = realWait;
      await wg.shutdown();
    }
  },

  async timeoutReplacesStuckWorker() {
    // A job that ignores its signal: after the grace period its worker is terminated (Chromium ends a
    // busy script up to 2 s later) and replaced; the job has already rejected with the timeout.
    const wg = await launched(2, { cancelGraceMs: 50 });
    try {
      const stuck = wg.dispatch(new work.Stubborn(60_000), { isolate: 1, timeout: 100 });
      const e = await within(rejection(stuck, 'a stuck job with a timeout'), 5_000, 'the timeout');
      assert(e instanceof lib.WorkgroupTimeoutException, `rejected with a timeout (got ${e?.name}: ${e?.message})`);
      for (let i = 0; i < 1000 && wg.liveIsolateCount < 2; i++) await delay(10);
      for (let i = 0; i < 1000 && wg.isolatesCount < 3; i++) await delay(10);
      same(wg.isolatesCount, 3, 'a replacement worker took a new index');
      for (let i = 0; i < 1000 && wg.liveIsolateCount < 2; i++) await delay(10);
      same(wg.liveIsolateCount, 2, 'two workers live again');
      same(await within(wg.dispatch(new work.WhereAmI(), 2), 10_000, 'a job on the replacement'), 2, 'the replacement serves');
      return {};
    } finally {
      await wg.shutdown();
    }
  },

  async progress() {
    const wg = await launched(1);
    try {
      const seen = [];
      const result = await wg.dispatch(new work.Progress(25), { onProgress: (v) => seen.push(v.step) });
      same(result, 'finished', 'the result');
      same(seen, Array.from({ length: 25 }, (_, i) => i + 1), 'every progress value, in order, before the result');
      const labels = [];
      await wg.dispatch(new work.Progress(2), { onProgress: (v) => labels.push(v.label) });
      same(labels, ['Schritt 1 ✓', 'Schritt 2 ✓'], 'progress values carry text');
      return { reports: seen.length };
    } finally {
      await wg.shutdown();
    }
  },

  async kernels() {
    const kernels = await import('./kernels.mjs');
    const wg = new IsolateWorkgroup(2, { modules: [new URL('./kernels.mjs', import.meta.url)] });
    await within(wg.launch(), 10_000, 'launch()');
    try {
      const n = 100_003;
      const counts = wg.allocate(Int32Array, n);
      const seen = [];
      await within(wg.parallelFor(n, new kernels.Count(counts), { onProgress: (f) => seen.push(f) }), 10_000, 'parallelFor');
      assert(counts.every((c) => c === 1), 'every index processed exactly once');
      same(seen.at(-1), 1, 'progress ends at 1');
      const data = wg.allocate(Int32Array, n);
      let expected = 0;
      for (let i = 0; i < n; i++) expected += (data[i] = (i * 31) % 1000);
      same(await within(wg.parallelReduce(n, new kernels.Sum(data), { chunk: 999 }), 10_000, 'parallelReduce'), expected, 'the sum');
      const err = await rejection(wg.parallelFor(n, new kernels.ThrowAt(5000), { chunk: 100 }), 'a throwing kernel');
      assert(err instanceof kernels.BadIndex, `the error keeps its class (got ${err?.name})`);
      assert(String(err.stack).includes('=== Stack trace in worker'), 'the worker side of the stack');
      const timedOut = await rejection(wg.parallelFor(1e6, new kernels.Count(wg.allocate(Int32Array, 1e6)), { chunk: 1, timeout: 1 }), 'a timed-out kernel');
      same(timedOut.name, 'WorkgroupTimeoutException', 'the timeout');
      return { progressReports: seen.length, chunks: 'ok' };
    } finally {
      await wg.shutdown();
    }
  },

  async zeroCopy() {
    const wg = await launched(2);
    try {
      const n = 1 << 20;
      const shared = wg.allocate(Float64Array, n);
      for (let i = 0; i < n; i++) shared[i] = i;
      same(await wg.dispatch(new work.DoubleInPlace(shared)), { length: n, shared: true }, 'the worker sees the array');
      assert(shared[0] === 0 && shared[1] === 2 && shared[n - 1] === 2 * (n - 1), 'the worker changed the very bytes main holds');
      wg.release(shared);
      const own = new Int32Array(new SharedArrayBuffer(16 * 4));
      own.fill(21);
      await wg.dispatch(new work.DoubleInPlace(own));
      assert(own.every((v) => v === 42), 'a SharedArrayBuffer of the page passes by reference');
      const squares = await wg.dispatch(new work.MakeSquares(1000));
      assert(squares instanceof Float64Array && squares.buffer instanceof SharedArrayBuffer, 'a worker returns shared memory it allocated');
      assert(squares[999] === 999 * 999, 'with its contents');
      wg.release(squares);
      return { bytes: n * 8 };
    } finally {
      await wg.shutdown();
    }
  },

  async responsive() {
    // While 100,000 jobs run, the page's own timers and animation frames keep running: the library
    // never blocks the main thread (it spins at most `mainSpinMicros`, then waits with waitAsync).
    const wg = await launched(2);
    try {
      const n = 100_000;
      let done = 0;
      let running = true;
      const ticksDuring = [];
      let frames = 0;
      const timer = setInterval(() => {
        if (done > 0 && done < n) ticksDuring.push(done);
      }, 0);
      const frame = () => {
        if (done > 0 && done < n) frames++;
        if (running) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      let wrong = 0;
      const all = [];
      for (let i = 0; i < n; i++) {
        all.push(
          wg.dispatch(new work.Add(i, 1)).then((v) => {
            if (v !== i + 1) wrong++;
            done++;
          }),
        );
      }
      await within(Promise.all(all), 60_000, '100,000 jobs');
      running = false;
      clearInterval(timer);
      same(wrong, 0, 'wrong results');
      same(done, n, 'every job settled');
      const distinct = new Set(ticksDuring).size;
      assert(distinct >= 3, `page timers ran while results were arriving (ticks at ${distinct} distinct progress points)`);
      assert(frames >= 1, 'animation frames ran while results were arriving');
      return { timerTicksDuring: ticksDuring.length, framesDuring: frames };
    } finally {
      await wg.shutdown();
    }
  },

  async callback() {
    const { Countdown } = await import('./callback-job.mjs');
    const seen = [];
    const result = await within(new CallbackWorkgroup(new Countdown(true, 5)).run((v) => seen.push(v)), 10_000, 'CallbackWorkgroup.run');
    same(seen, [5, 4, 3, 2, 1], 'every report, in order, before the result');
    same(result, 'liftoff', 'the result');
    const failed = await rejection(new CallbackWorkgroup(new Countdown(false, -1)).run(null), 'a failing CallbackWorkgroup job');
    assert(failed instanceof RangeError && failed.stack.includes('Stack trace in main'), 'its error keeps its class and both stacks');
    return {};
  },

  async shutdown() {
    const wg = await launched(2);
    const long = wg.dispatch(new work.Busy(60_000));
    long.catch(() => {});
    await delay(20);
    await within(wg.shutdown(), 10_000, 'shutdown() with a busy worker');
    const e = await rejection(long, 'the running job at shutdown');
    assert(e instanceof lib.WorkgroupJobAbortedException, `pending work is rejected as aborted (got ${e?.name})`);
    same(wg.state, 'disposed', 'state');
    const after = await rejection(wg.dispatch(new work.Add(1, 1)), 'dispatch after shutdown');
    assert(after instanceof lib.WorkgroupInactiveException, 'dispatch after shutdown rejects as inactive');
    return {};
  },

  async notIsolated() {
    // Served without COOP/COEP (`?coi=0`): construction fails with the clear error, which the page shows.
    assert(globalThis.crossOriginIsolated !== true, 'this page is not isolated');
    let error;
    try {
      new IsolateWorkgroup(2, { modules });
    } catch (e) {
      error = e;
    }
    assert(error instanceof Error, 'the constructor throws');
    for (const part of ['Cross-Origin-Opener-Policy: same-origin', 'Cross-Origin-Embedder-Policy: require-corp', 'credentialless']) {
      assert(error.message.includes(part), `the message names ${part}`);
    }
    document.querySelector('#out').textContent = error.message;
    return { message: error.message };
  },

  async waitAsyncMissing() {
    // fallback.html removed Atomics.waitAsync before the library loaded: the main thread waits on the
    // message doorbell that workers ring when they find no waiter.
    assert(typeof Atomics.waitAsync === 'undefined', 'Atomics.waitAsync is gone on this page');
    const wg = await launched(2, { mainSpinMicros: 0 });
    try {
      const sums = await within(Promise.all(Array.from({ length: 5000 }, (_, i) => wg.dispatch(new work.Add(i, i)))), 20_000, 'jobs without waitAsync');
      assert(sums.every((v, i) => v === 2 * i), 'results');
      // One at a time: every result must wake the idle main thread through the doorbell.
      for (let i = 0; i < 50; i++) same(await within(wg.dispatch(new work.Add(i, 1)), 5_000, `round trip ${i}`), i + 1, 'round trip');
      await delay(30); // let both workers park
      same(await within(wg.dispatch(new work.Progress(3)), 5_000, 'progress without waitAsync'), 'finished', 'progress job');
      return { jobs: 5050 };
    } finally {
      await wg.shutdown();
    }
  },
};

const name = new URL(location.href).searchParams.get('test');
const out = document.querySelector('#out');
try {
  const test = tests[name];
  if (!test) throw new Error(`no test named ${name}; known: ${Object.keys(tests).join(', ')}`);
  const detail = await test();
  window.__result = { ok: true, detail };
  if (name !== 'notIsolated') out.textContent = `ok ${name} ${JSON.stringify(detail)}`;
} catch (e) {
  window.__result = { ok: false, error: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` };
  out.textContent = `FAILED ${name}: ${e?.message}`;
}
