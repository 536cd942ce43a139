/**
 * The worker-side loop, platform-free (docs/architecture.md, "Wake protocol").
 *
 * Each turn: control (stop, control messages, probe) → the lane's direct ring (member calls, pinned
 * jobs, notify replies) → the shared job queue (while fewer than `concurrency` jobs run) → publish the
 * results with one store and ring main's results doorbell once. With nothing to do it spins for an
 * adaptive budget, then parks: `Atomics.wait` on its doorbell when nothing else needs its event loop,
 * `Atomics.waitAsync` (back to the event loop) when async jobs, timers or I/O are pending.
 *
 * The loop is this file; the work it hands out is done by the parts listed in worker-context.ts
 * (running words, the executor, the result writer, members, the control plane), wired together here.
 */
import {
  CMD_CONTROL,
  CMD_STOP,
  LANE_DIRECT_HEADER,
  LANE_RESULT_HEADER,
  POOL_FLAGS_I32,
  POOL_IDLE_MASK_I32,
  FLAG_SHUTDOWN,
  STATE_DEAD,
  STATE_PARKED,
  STATE_RUNNING,
  STATE_SPINNING,
  POOL_SPINNER_MASK_I32,
  MASK_WORDS,
  POOL_MAX_SPINNERS_I32,
  readLaneLayout,
} from '../ring/layout.js';
import { JobQueueConsumer } from '../ring/job-queue.js';
import { ORIGIN_INITIALIZATION, ORIGIN_UNKNOWN, REC_INVOKE, REC_JOB, REC_NOTIFY_REPLY, REC_SPILL, REC_UNCAUGHT, type WorkerInit } from '../ring/protocol.js';
import { SpscConsumer, SpscProducer } from '../ring/spsc.js';
import { SpinBudget, SpinGate, parkAsync, spinPause } from '../ring/wait.js';
import type { TypedArrayConstructor } from '../shared/job.js';
import { enterModuleImport, leaveModuleImport } from '../shared/worker-flag.js';
import { explainImportError } from '../shared/import-errors.js';
import { ControlPlane } from './control-plane.js';
import { Executor } from './executor.js';
import type { WorkerHost } from './host.js';
import { MemberHost } from './member-host.js';
import { ResultWriter } from './result-writer.js';
import { RunSlots } from './run-slots.js';
import { allocateOn, releaseOn, type RunServices } from './running.js';
import { BODY_TWO_WORDS, R_ID, R_SECOND, R_SPILL_GENERATION, R_SPILL_LENGTH, readWord } from '../ring/records.js';
import { plainError } from './worker-codec.js';
import { WorkerContext } from './worker-context.js';

/**
 * Browsers (no synchronous control pull, `WorkerHost.syncControl` false): after main flags a control
 * message, each busy turn returns to the event loop for this long, so the message is received even while
 * jobs keep coming; and a busy loop returns to it at least this often (timers and messages of the worker).
 */
const CONTROL_YIELD_MS = 20;
const BUSY_YIELD_MS = 50;
/** Longest a batch of queue jobs holds its results back (see #turn). */
const BATCH_PUBLISH_MS = 2;
/** Browsers and Bun: longest blocking park; then one event-loop turn (user timers, messages) before parking again. */
const PARK_SLICE_MS = 20;

export class WorkerCore {
  readonly #ctx: WorkerContext;
  readonly #queue: JobQueueConsumer;
  readonly #direct: SpscConsumer;
  readonly #spin: SpinBudget;
  readonly #gate: SpinGate;
  readonly #slots: RunSlots;
  readonly #writer: ResultWriter;
  readonly #members: MemberHost;
  readonly #executor: Executor;
  readonly #control: ControlPlane;
  #lastProbe = 0;
  /** Once stopping: false while members' dispose() runs, true when it is done. */
  #disposed: boolean | undefined;
  /** Browsers: busy turns yield to the event loop until then (a control message is on its way). */
  #controlUntil = 0;
  /** Browsers: a busy loop yields to the event loop at the latest then. */
  #nextYield = 0;

  constructor(host: WorkerHost, init: WorkerInit) {
    const ctx = new WorkerContext(host, init, (id) => this.#control.awaitBuffer(id));
    this.#ctx = ctx;
    this.#queue = new JobQueueConsumer(init.pool, init.slot);
    const lane = readLaneLayout(init.lane);
    this.#direct = new SpscConsumer(init.lane, LANE_DIRECT_HEADER, lane.directData, lane.directCapacity);
    const results = new SpscProducer(init.lane, LANE_RESULT_HEADER, lane.resultData, lane.resultCapacity);
    this.#spin = new SpinBudget(init.spinIterations, Math.min(64, init.spinIterations), Math.max(init.spinIterations * 8, 64));
    this.#gate = new SpinGate(new Int32Array(init.pool), POOL_SPINNER_MASK_I32, MASK_WORDS, init.slot, new Int32Array(init.pool)[POOL_MAX_SPINNERS_I32]!);
    // The runtime every job sees (through its Running), one object for the worker's lifetime.
    const arena = ctx.arena;
    const services: RunServices = {
      isolateIndex: init.index,
      signalFor: (running) => this.#slots.signalFor(running),
      report: (running, value) => this.#writer.report(running, value),
      flushReport: (running) => void this.#writer.writeCoalesced(running, true),
      isCancelled: (running) => this.#slots.isCancelled(running),
      allocate: <C extends TypedArrayConstructor>(ctor: C, length: number) => allocateOn(arena, ctor, length),
      release: (array) => releaseOn(arena, array),
      notifyHost: (command, memberId) => this.#members.notifyHost(command, memberId),
    };
    this.#writer = new ResultWriter(ctx, results, () => this.#slots.afterPublish());
    this.#slots = new RunSlots(ctx.control, init.concurrency, services, () => this.#writer.flush());
    this.#members = new MemberHost(ctx, this.#writer, services);
    this.#executor = new Executor(ctx, this.#slots, this.#writer, this.#members);
    this.#control = new ControlPlane(ctx, this.#members);
    host.onControl((m) => this.#control.apply(m));
    host.onUncaught((e) => this.#reportUncaught(e));
  }

  /** Imports the work modules, runs their `setup()`, then serves until stopped. */
  async start(): Promise<void> {
    const { host, init, codec, control } = this.#ctx;
    control.setState(STATE_RUNNING);
    try {
      blockingWaitAllowed(control.i32, control.doorbellIndex);
      enterModuleImport();
      try {
        for (const url of init.modules) await codec.registry.load(url);
      } finally {
        leaveModuleImport();
      }
      for (const url of init.modules) {
        const ns = await codec.registry.load(url);
        if (typeof ns['setup'] === 'function') await (ns['setup'] as () => unknown)();
      }
    } catch (error) {
      host.post({ type: 'setupFailed', error: codec.encodeStandalone(explainImportError(error), 'error') });
      control.setState(STATE_DEAD);
      host.close();
      return;
    }
    host.post({ type: 'ready' });
    try {
      await this.#loop();
    } catch (error) {
      // A throw outside user code (a corrupt ring, a job that froze its own object): a thread that kept
      // running without its loop would be a zombie reported busy whose work never settles. End it; main's
      // crash recovery delivers what was published and rejects what it held.
      this.#writer.flush();
      this.#reportUncaught(error);
      if (!this.#ctx.fence.fenced) control.setState(STATE_DEAD);
      host.abort();
      return;
    }
    if (!this.#ctx.fence.fenced) control.setState(STATE_DEAD);
    host.close();
  }

  // ---------------------------------------------------------------- the loop

  async #loop(): Promise<void> {
    const ctx = this.#ctx;
    const { i32, init, host, control } = ctx;
    for (;;) {
      const did = this.#turn();
      if (ctx.fence.fenced) return; // stopped by main: no dispose(), no shared word written any more
      if (ctx.stopping && this.#slots.runningCount === 0) {
        // Members' dispose() runs while the loop keeps turning (skipping jobs and calls), so a dispose()
        // that awaits notifyHost() gets its answer from the direct ring.
        if (this.#disposed === undefined) {
          this.#disposed = false;
          void ctx.track(this.#members.disposeAll()).finally(() => {
            this.#disposed = true;
            ctx.wakeSelf();
          });
        }
        if (this.#disposed) return;
      }
      if (did) {
        if (ctx.asyncPending > 0 || this.#mustYield()) await host.yieldToEventLoop();
        continue;
      }
      // Spin phase: poll every source for a bounded, adaptive number of iterations — if a spinning place
      // is free (at most `maxSpinningWorkers` spin at once; the others park at once and main wakes them).
      const maySpin = ctx.asyncPending === 0 && this.#spin.current > 0 && this.#gate.enter();
      if (maySpin) control.setState(STATE_SPINNING);
      const budget = maySpin ? this.#spin.current : 0;
      let found = false;
      for (let n = 0; n < budget; n++) {
        if (this.#hasWork()) {
          this.#spin.hit(n);
          found = true;
          break;
        }
        spinPause();
      }
      if (maySpin) {
        control.setState(STATE_RUNNING); // (a death anywhere here is repaired: main clears this slot's gate bit)
        this.#gate.leave();
      }
      if (found) continue;
      if (budget > 0) this.#spin.miss();
      // Park: publish "parked" and the idle bit, re-check (Dekker pair with main's publish), then wait.
      const d = control.doorbell();
      control.setParked(true);
      // The idle bit tells main "wake me for queue jobs": only when this worker could take one. A worker whose
      // every concurrency place is held (async jobs) parks without it, so wake-ups go to truly idle workers.
      const bit = this.#slots.hasRoom ? 1 << (init.slot & 31) : 0;
      if (bit !== 0) Atomics.or(i32, POOL_IDLE_MASK_I32 + (init.slot >> 5), bit);
      control.setState(STATE_PARKED);
      if (!this.#hasWork()) {
        // Block (the fastest wake-up) unless something needs this thread's event loop: async work, timers
        // or I/O (Node sees them), a control message on its way (browsers have no synchronous pull).
        if (ctx.asyncPending > 0 || host.hasForeignWork() || performance.now() < this.#controlUntil) {
          await parkAsync(i32, control.doorbellIndex, d, init.parkTimeoutMs, () => host.yieldToEventLoop());
        } else if (host.syncControl && host.seesForeignWork) {
          Atomics.wait(i32, control.doorbellIndex, d, init.parkTimeoutMs);
        } else if (Atomics.wait(i32, control.doorbellIndex, d, Math.min(PARK_SLICE_MS, init.parkTimeoutMs)) === 'timed-out') {
          // Browsers and Bun cannot see the worker's timers (and browsers its messages): block in slices,
          // turning the event loop between them (a blocked wake-up is about twice as fast as waitAsync's
          // task, measured in Chromium).
          await host.yieldToEventLoop();
        }
      }
      if (bit !== 0) Atomics.and(i32, POOL_IDLE_MASK_I32 + (init.slot >> 5), ~bit);
      control.setParked(false);
      control.setState(STATE_RUNNING);
      control.beat();
    }
  }

  /** Browsers: true when a busy loop must return to its event loop now (see CONTROL_YIELD_MS). */
  #mustYield(): boolean {
    if (this.#ctx.host.syncControl) return false;
    const now = performance.now();
    if (now < this.#controlUntil || now >= this.#nextYield) {
      this.#nextYield = now + BUSY_YIELD_MS;
      return true;
    }
    return false;
  }

  #hasWork(): boolean {
    const control = this.#ctx.control;
    if (control.commands() !== 0) return true;
    if (control.probeSeq() !== this.#lastProbe) return true;
    if (!this.#direct.isEmpty) return true;
    if (this.#ctx.stopping) return false;
    return this.#slots.hasRoom && this.#queue.hasWork();
  }

  /** One pass over every source. Returns true when it did anything. */
  #turn(): boolean {
    const ctx = this.#ctx;
    const { i32 } = ctx;
    if (ctx.fence.requested) {
      // Main asked this worker to stop (kill, replacement): publish what finished, then touch nothing.
      this.#writer.stopFenced();
      return true;
    }
    let did = false;
    const control = ctx.control;
    const cmd = control.takeCommands();
    if (cmd !== 0) {
      if (cmd & CMD_CONTROL) {
        this.#control.pull();
        // Without a synchronous pull the message arrives through the event loop: yield for a while.
        if (!ctx.host.syncControl) this.#controlUntil = performance.now() + CONTROL_YIELD_MS;
      }
      if (cmd & CMD_STOP) ctx.stopping = true;
      did = true;
    }
    if ((Atomics.load(i32, POOL_FLAGS_I32) & FLAG_SHUTDOWN) !== 0) ctx.stopping = true;
    this.#answerProbe();
    if (ctx.asyncPending > 0) this.#slots.pollCancels();
    // Direct ring first, so member calls and pinned work are never starved by the shared queue. Results are
    // published at the latest BATCH_PUBLISH_MS after the previous publish, checked after every record and
    // every job, so a long job's result never waits for the rest of its batch. A stop request (the fence)
    // ends it: the records left are the lane work main rejects.
    let published = performance.now();
    let read = false;
    for (let off = this.#direct.next(); off >= 0 && !ctx.fence.requested; off = this.#direct.next()) {
      const type = this.#direct.type;
      const len = this.#direct.length;
      this.#handleDirect(type, off, len);
      this.#direct.advance();
      read = true;
      if (performance.now() - published >= BATCH_PUBLISH_MS) {
        this.#writer.flush();
        published = performance.now();
      }
    }
    if (read) {
      this.#direct.release();
      did = true;
    }
    // Shared queue: claim while there is room for more running jobs (bounded batch per turn). A command
    // (stop, control message) ends the batch, so it never delays a kill. Each claim happens inside the stop
    // fence (ring/fence.ts); the job runs outside it.
    const fence = ctx.fence;
    for (let batch = 0; batch < 256 && !ctx.stopping && this.#slots.hasRoom; batch++) {
      if (batch > 0 && control.commands() !== 0) break;
      if (!fence.enter()) {
        this.#writer.stopFenced(); // main asked this worker to stop: publish what finished, claim nothing
        return true;
      }
      let run: (() => void) | undefined;
      try {
        if (this.#queue.tryClaim() === 0) break;
        run = this.#executor.takeQueued(this.#queue);
      } finally {
        fence.leave();
      }
      did = true;
      run?.();
      if (performance.now() - published >= BATCH_PUBLISH_MS) {
        this.#writer.flush();
        published = performance.now();
      }
    }
    this.#writer.flush();
    return did;
  }

  #answerProbe(): void {
    const control = this.#ctx.control;
    const ps = control.probeSeq();
    if (ps !== this.#lastProbe) {
      this.#lastProbe = ps;
      control.ackProbe(ps);
    }
  }

  // ---------------------------------------------------------------- direct ring

  #handleDirect(type: number, off: number, len: number, u8: Uint8Array = this.#direct.u8): void {
    if (type === REC_SPILL) {
      // A record too big for the ring (main's lane backlog put it in the arena): read it there, then free.
      const arena = this.#ctx.arena;
      const handle = { offset: readWord(u8, off + R_SECOND) | 0, generation: readWord(u8, off + R_SPILL_GENERATION) | 0 };
      const total = readWord(u8, off + R_SPILL_LENGTH);
      const view = arena.viewOf(handle, total);
      try {
        this.#handleDirect(readWord(u8, off + R_ID), 0, total, view);
      } finally {
        arena.free(handle);
      }
      return;
    }
    if (type === REC_JOB || type === REC_INVOKE) {
      // Shut down: main rejected everything it had sent, so nothing of it runs any more. Cancelled before
      // it started: skipped, and main is told so it forgets the call.
      if (this.#ctx.stopping || (Atomics.load(this.#ctx.i32, POOL_FLAGS_I32) & FLAG_SHUTDOWN) !== 0) return;
      const id = readWord(u8, off + R_ID);
      if (this.#ctx.control.takeSkip(id)) {
        this.#executor.skipped(id, type === REC_JOB);
        return;
      }
      if (type === REC_JOB) this.#executor.startPinned(u8, off, len);
      else this.#executor.startInvoke(u8, off, len);
    } else if (type === REC_NOTIFY_REPLY) {
      this.#members.answerNotify(readWord(u8, off + R_ID), readWord(u8, off + R_SECOND) === 1, u8, off + BODY_TWO_WORDS, off + len);
    }
  }

  /** An error thrown outside any job (a timer, an unhandled rejection): reported to main's `unknown` handler. */
  #reportUncaught(error: unknown): void {
    try {
      this.#writer.write(REC_UNCAUGHT, [0, ORIGIN_UNKNOWN], error, 'error');
    } catch {
      this.#writer.write(REC_UNCAUGHT, [0, ORIGIN_UNKNOWN], plainError(error), 'error');
    }
    this.#writer.flush();
    // Main may be idle (no results loop running): a control message makes it drain now.
    this.#ctx.host.post({ type: 'wake' });
  }

  /** Exposed for the entry: called periodically while async work is pending. */
  pollCancels(): void {
    this.#slots.pollCancels();
  }
}

/**
 * The loop parks in `Atomics.wait`: a thread where it is refused (a runtime's main-thread-like context)
 * cannot serve. Tested with a value that never matches, so it returns at once where it is allowed.
 */
function blockingWaitAllowed(i32: Int32Array, index: number): void {
  try {
    Atomics.wait(i32, index, Atomics.load(i32, index) ^ 1, 0);
  } catch (e) {
    throw new Error(`isolate-workgroup needs Atomics.wait in its worker threads, which this runtime refuses there (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

export { ORIGIN_INITIALIZATION };
