/**
 * The worker registry: public indices, starting workers (launch, addIsolate, respawn), ending them (kill,
 * retire, shutdown) and what happens when a thread exits. Each worker gets one exit intent when the
 * workgroup decides to end it (kill | replace | shutdown); a thread that exits without one crashed.
 *
 * The exit handler is one ordered script (`#onExit`):
 *   1. drain results — everything the worker published is valid and delivered;
 *   2. repair the queue — cells it claimed but never started go back to the front (again later while a
 *      live worker's stale claim intent hides one: "until clean");
 *   3. reject what it held — what it started (running words) and what was sent to its lane;
 *   4. members — dead (or gone, when killed), their creation and destruction waiters settle;
 *   5. reclaim memory — its arena blocks, its shared words, its slot;
 *   6. respawn — a crash (or a replacement) gets a new worker at a new index, with back-off.
 */
import type { Arena } from '../memory/arena.js';
import { CB_CLAIM_INTENT, CMD_STOP, LANE_DIRECT_HEADER, POOL_IDLE_MASK_I32, controlBase, readLaneLayout } from '../ring/layout.js';
import { REC_SPILL } from '../ring/protocol.js';
import { R_SECOND, R_SPILL_GENERATION, readWord } from '../ring/records.js';
import { SpscConsumer } from '../ring/spsc.js';
import { CELL_INLINE_MAX } from '../ring/job-queue.js';
import type { ResolvedConfig } from '../shared/config-types.js';
import { WorkgroupException, WorkgroupJobAbortedException, WorkgroupMemberDeadException, WorkgroupSetupException } from '../shared/errors.js';
import type { Platform, WorkerHandle } from '../shared/platform.js';
import type { ControlToMain } from '../ring/protocol.js';
import type { Dispatcher } from './dispatcher.js';
import type { ErrorRouter } from './error-router.js';
import type { KeepAlive } from './keep-alive.js';
import { LaneWriter, type LaneItem } from './lane-writer.js';
import type { MainCodec } from './main-codec.js';
import type { MemberTable } from './member-table.js';
import type { Pending, PendingTable } from './pending.js';
import { EARLY_DEATH_MS, RESPAWN_LIMIT, RespawnGuard, type DeathFacts } from './respawn.js';
import type { ResultsLoop } from './results-loop.js';
import { describeExit, ignore } from './types.js';
import type { WorkerSet } from './worker-set.js';
import { WorkerSlot } from './worker-slot.js';

/** What the registry needs from the rest of the core. */
export interface RegistryHost {
  /** True while the workgroup is active (not shut down). */
  readonly active: boolean;
  /** A control message from a worker that is not about its life (members, buffers, wake-ups). */
  control(ws: WorkerSlot, m: ControlToMain): void;
  /** A lane record that cannot be placed (shared memory full). */
  unplaceable(ws: WorkerSlot, item: LaneItem, error: unknown): void;
  decodeStandalone(bytes: Uint8Array, ws: WorkerSlot): unknown;
}

export interface RegistryParts {
  readonly pool: SharedArrayBuffer;
  readonly workers: WorkerSet;
  readonly pending: PendingTable;
  readonly dispatcher: Dispatcher;
  readonly results: ResultsLoop;
  readonly members: MemberTable;
  readonly codec: MainCodec;
  readonly arena: Arena;
  readonly errors: ErrorRouter;
  readonly keepAlive: KeepAlive;
  readonly platform: Platform;
  readonly config: ResolvedConfig;
}

/**
 * kill(): how long a worker that finishes no job may take to acknowledge the stop before its thread is
 * terminated anyway (a job that finishes in time delivers its result instead of failing as killed).
 */
const KILL_GRACE_MS = 200;

export class WorkerRegistry {
  readonly #p: RegistryParts;
  readonly #host: RegistryHost;
  readonly #i32: Int32Array;
  readonly #respawn = new RespawnGuard();
  /** Replacements decided on and not yet started or failed (a back-off delay, or waiting in the addIsolate chain). */
  #respawnsPending = 0;
  /**
   * addIsolate() calls (the user's and respawns) run one after another, after launch: each reserves index
   * `isolatesCount` and commits it only once its worker is ready, so a failed one gives it back exactly.
   */
  #addChain: Promise<unknown> = Promise.resolve();
  /** A dead worker's queue cell is still hidden by a live worker's claim intent: repair again. */
  #repairAgain = false;

  constructor(parts: RegistryParts, host: RegistryHost) {
    this.#p = parts;
    this.#host = host;
    this.#i32 = new Int32Array(parts.pool);
  }

  // ------------------------------------------------------------------ look-ups

  /** Validates a worker index for dispatch/addInstance/kill; returns the worker or the error. */
  resolveIndex(index: number): WorkerSlot | WorkgroupException {
    const workers = this.#p.workers;
    const next = workers.nextIndex;
    if (!Number.isInteger(index) || index < 0 || index >= next) {
      const range = next === 0 ? 'There are no workers yet' : `Valid indices are 0...${next - 1}`;
      const what = typeof index === 'number' ? String(index) : `${String(index)} (a ${typeof index}; expected an integer)`;
      return new WorkgroupException(`Invalid isolate index ${what}. ${range}`);
    }
    const ws = workers.get(index);
    if (ws?.confirmedDead) {
      return new WorkgroupMemberDeadException(index, `it failed ${ws.consecutiveFailures} health probes in a row and is replaced: use another index (live indices: ${workers.liveIndices()})`);
    }
    if (!ws || !ws.live) {
      return new WorkgroupException(`Isolate at index ${index} does not exist or has already been removed (live indices: ${workers.liveIndices()})`);
    }
    return ws;
  }

  // ------------------------------------------------------------------ starting

  /**
   * Starts the first workers (in parallel or one by one) once `before` (main's module imports) resolved;
   * returns the setup failures. addIsolate() calls made meanwhile wait for it (they take the next indices).
   */
  async launch(count: number, sequential: boolean, before: Promise<unknown>): Promise<WorkgroupSetupException[]> {
    const failures: WorkgroupSetupException[] = [];
    const workers = this.#p.workers;
    const start = async (): Promise<void> => {
      if (!this.#host.active) return; // shut down while launching (one by one): start no more
      const index = workers.nextIndex++;
      try {
        await this.#start(index, undefined);
      } catch (e) {
        if (!workers.get(index)?.killed) failures.push(e as WorkgroupSetupException); // kill() during launch is no failure
      }
    };
    // The workers start now, while main imports the work modules (`before`): each side imports them
    // itself, and a thread's start is the slow part of launch(). A failed import in main is reported by
    // launch(); the workers that started meanwhile are stopped by shutdown().
    before.catch(ignore);
    const run = (async () => {
      if (!this.#host.active) return;
      if (sequential) {
        for (let i = 0; i < count; i++) await start();
      } else {
        await Promise.all(Array.from({ length: count }, start));
      }
    })();
    this.#addChain = run.catch(ignore); // addIsolate waits for the initial indices
    await run;
    failures.sort((a, b) => a.isolateIndex - b.isolateIndex);
    return failures;
  }

  /** Starts a new worker at index `isolatesCount`; resolves with the index once its setup ran. */
  addIsolate(label: string | undefined, byUser: boolean): Promise<number> {
    if (byUser) this.#respawn.reset(); // the user adds a worker on purpose: replacing crashed ones may resume
    const run = this.#addChain.then(() => this.#p.keepAlive.during(() => this.#addOne(label)));
    this.#addChain = run.catch(ignore);
    return run;
  }

  async #addOne(label: string | undefined): Promise<number> {
    if (!this.#host.active) throw new WorkgroupException('Cannot add isolate - workgroup has been shut down');
    const workers = this.#p.workers;
    // Reserved, not yet counted: no other add runs now, and isolatesCount rises only when the worker is ready.
    const index = workers.nextIndex;
    try {
      await this.#start(index, label);
    } catch (e) {
      // Roll back: no thread, no state, no index consumed.
      const ws = workers.get(index);
      if (ws) {
        await ws.handle?.terminate();
        await ws.exitedPromise;
        workers.remove(ws);
      }
      throw e;
    }
    workers.nextIndex = index + 1;
    return index;
  }

  /** Spawns one worker at `index`; resolves when it is ready, rejects with WorkgroupSetupException. */
  #start(index: number, label: string | undefined): Promise<WorkerSlot> {
    const { config: c, workers, pool } = this.#p;
    const slot = workers.freeSlot();
    if (slot < 0) return Promise.reject(new WorkgroupException(`all ${c.maxWorkers} worker slots are in use: raise \`maxWorkers\``));
    const name = label ?? c.labelBuilder(index);
    const ws = new WorkerSlot(index, slot, name, pool, c.directRingBytes, c.resultRingBytes);
    ws.writer = new LaneWriter(ws, this.#p.codec, this.#p.arena, (item, error) => this.#host.unplaceable(ws, item, error), (w) => this.#p.dispatcher.wakeSoon(w));
    workers.add(ws);
    Atomics.store(this.#i32, controlBase(slot) + CB_CLAIM_INTENT, -1);
    const ready = new Promise<WorkerSlot>((resolve, reject) => {
      ws.readyWaiter = { resolve: () => resolve(ws), reject };
    });
    ready.catch(ignore); // callers observe it; a rejection nobody awaits (shutdown mid-start) is not "unhandled"
    const release = this.#p.keepAlive.hold(); // a starting worker keeps the process alive until it is ready or gone
    void ready.then(release, release);
    try {
      ws.handle = this.#spawn(ws);
      ws.handle.unref(); // process lifetime is the keep-alive's alone
    } catch (error) {
      // The platform refused to start the thread (e.g. bad workerOptions.execArgv): roll the slot back.
      workers.remove(ws);
      ws.readyWaiter = undefined;
      ws.state = 'failed';
      ws.markExited();
      release();
      const msg = error instanceof Error ? error.message : String(error);
      return Promise.reject(new WorkgroupSetupException(index, `could not start the worker thread: ${msg} (check \`workerOptions\`)`, { cause: error }));
    }
    return ready;
  }

  #spawn(ws: WorkerSlot): WorkerHandle {
    const { config: c, codec, arena, pool, platform } = this.#p;
    return platform.spawn(
      {
        label: ws.label,
        workerOptions: c.workerOptions,
        init: {
          type: 'init',
          pool,
          lane: ws.laneBuffer,
          arena: arena.sab,
          slot: ws.slot,
          index: ws.index,
          label: ws.label,
          modules: c.modules,
          concurrency: c.concurrency,
          spinIterations: c.spinIterations,
          parkTimeoutMs: c.parkTimeoutMs,
          progress: c.progress,
          sharedBuffers: codec.knownBuffers(),
        },
      },
      {
        message: (m) => this.onControlMessage(ws, m),
        exit: (code, error) => this.#onExit(ws, code, error),
      },
    );
  }

  /** A control message from worker `ws`: its life (ready, setup failed) here, the rest to the core. */
  onControlMessage(ws: WorkerSlot, m: ControlToMain): void {
    if (m.type === 'ready') {
      if (ws.state === 'starting') ws.state = 'ready';
      ws.lastKnownGood = ws.readyAt = Date.now();
      ws.readyWaiter?.resolve();
      ws.readyWaiter = undefined;
      this.#p.dispatcher.kick();
      // It may have parked before main read this message, its wake-up bit taken by a kick that saw it
      // still starting: wake it when jobs wait.
      if (this.#p.dispatcher.queue.size > 0) ws.wake();
      return;
    }
    if (m.type === 'setupFailed') {
      ws.state = 'failed';
      const cause = this.#host.decodeStandalone(m.error, ws);
      const msg = cause instanceof Error ? cause.message : String(cause);
      ws.readyWaiter?.reject(new WorkgroupSetupException(ws.index, msg, { cause }));
      ws.readyWaiter = undefined;
      this.#p.pending.poke();
      return;
    }
    this.#host.control(ws, m);
  }

  // ------------------------------------------------------------------ ending

  /** Removes worker `index` for good: its running work is rejected, queued jobs stay for the others. */
  async kill(index: number): Promise<void> {
    const t = this.resolveIndex(index);
    if (t instanceof Error) throw t;
    await this.#p.keepAlive.during(async () => {
      t.intent = 'kill';
      t.state = 'stopping';
      // Fenced off first: what it finished is published (and delivered by the exit script), and it can
      // touch nothing once main settles its work, even where `terminate()` reports an exit early (Deno).
      await t.fenceOff(KILL_GRACE_MS);
      await t.handle?.terminate();
      await t.exitedPromise;
    });
  }

  /** Terminates a worker the workgroup gave up on (unresponsive, ignored a cancel): its work is rejected with `reason`, and it is replaced. */
  retire(ws: WorkerSlot, reason: string): void {
    if (ws.exited || ws.intent !== undefined) return;
    ws.exitReason = reason;
    ws.intent = 'replace';
    ws.state = 'stopping';
    void ws.fenceOff(0).then(() => ws.handle?.terminate());
  }

  /**
   * Ends an idle worker cooperatively (autoscaling): no new work reaches it (it is no longer live), its
   * stop command keeps it from claiming more from the shared queue, and a job it claimed in the same
   * instant is finished and delivered before it exits by itself. Never terminated, never replaced, no
   * error reported. False (and nothing changes) unless it is ready, runs nothing and holds no member.
   */
  retireIdle(ws: WorkerSlot): boolean {
    if (ws.exited || ws.intent !== undefined || ws.state !== 'ready' || ws.members.size > 0 || ws.setupsInFlight > 0 || ws.isBusy()) return false;
    ws.intent = 'retire';
    ws.state = 'stopping';
    ws.command(CMD_STOP);
    return true;
  }

  /**
   * Shutdown: busy workers are terminated at once (their work was rejected); idle ones stop cooperatively
   * (so their members' `dispose()` runs), terminated after `graceMs`. Resolves once every thread exited.
   */
  async stopAll(stop: (ws: WorkerSlot) => void, graceMs: number): Promise<void> {
    const exits: Promise<void>[] = [];
    for (const w of this.#p.workers.values()) {
      if (w.exited) continue;
      if (w.state === 'starting') w.readyWaiter?.reject(new WorkgroupSetupException(w.index, 'the workgroup was shut down while this worker started'));
      // A busy worker is terminated at once (its work was rejected above). So is an idle worker that holds
      // no member and disposes of none (a destroyInstance() in flight): it has no dispose() to run, so
      // waiting for its thread to wind down by itself (15–20 ms here) buys nothing. A worker with members
      // stops cooperatively, after their dispose(); so does a worker still starting (terminate() of a
      // thread still loading its modules was seen never to settle on Node).
      const atOnce = w.isBusy() || (w.state === 'ready' && w.members.size === 0 && w.disposing.size === 0);
      w.intent ??= 'shutdown';
      w.state = 'stopping';
      stop(w);
      exits.push(this.#stopWorker(w, atOnce ? 0 : graceMs));
    }
    await Promise.all(exits);
  }

  async #stopWorker(w: WorkerSlot, graceMs: number): Promise<void> {
    let timedOut = true;
    if (graceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      });
      timedOut = await Promise.race([w.exitedPromise.then(() => false), expired]);
      clearTimeout(timer);
    }
    if (timedOut || !w.exited) {
      await w.fenceOff(0); // a thread that outlives terminate() (Deno) must not run what is still queued
      await w.handle?.terminate();
    }
    await w.exitedPromise;
  }

  // ------------------------------------------------------------------ the exit script

  /** A worker's thread exited (crash, process.exit, out of memory, kill, terminate from outside, shutdown). */
  #onExit(ws: WorkerSlot, code: number | undefined, error: unknown): void {
    if (ws.exited) return;
    const { workers, pending, members, arena, codec, errors, config } = this.#p;
    const serving = ws.readyAt > 0 && ws.index < workers.nextIndex;
    const crashed = serving && ws.intent === undefined && this.#host.active && ws.state !== 'failed';
    ws.state = ws.state === 'failed' ? 'failed' : 'dead';
    // A worker that died while spinning or parked: its spinning place and idle bit go back (idempotent).
    ws.giveBackSpinPlace();
    ws.markDeadInSharedMemory();
    Atomics.and(this.#i32, POOL_IDLE_MASK_I32 + (ws.slot >> 5), ~(1 << (ws.slot & 31)));
    // 1. Everything it published is still valid: deliver it.
    try {
      this.#p.results.drainWorker(ws);
    } catch {
      // a corrupt ring from a dying worker: what is left is rejected below
    }
    const index = ws.index;
    const why = ws.exitReason ?? `the worker ${describeExit(code, error)}`;
    const cause = error ? { cause: error } : undefined;
    const reason = (what: string): Error =>
      ws.killed ? new WorkgroupJobAbortedException(`Isolate #${index} was killed - ${what} cancelled`) : new WorkgroupMemberDeadException(index, `${why} - ${what} cancelled`, cause);
    const running = ws.runningIds();
    const held = new Set<number>([...running, ...ws.laneWork]);
    const facts: DeathFacts = { readyAt: ws.readyAt, now: Date.now(), finished: ws.finishedCount(), running: running.length };
    // 2. Shared queue: cells it claimed but never started go back to the queue.
    this.#repair(ws, held);
    // 3. What it held: rejected (at most once); cancelled work it held is forgotten.
    for (const id of held) {
      const p = pending.get(id);
      if (!p) continue;
      if (p.status === 'cancelled') pending.forget(p);
      else pending.reject(p, reason(p.kind === 'job' ? 'job' : 'request'));
    }
    for (const p of [...pending.values()]) if (p.worker === ws && p.status === 'cancelled') pending.forget(p);
    // 4. Its members.
    members.workerGone(ws, reason);
    ws.writer?.clear();
    this.#freeUnreadSpills(ws);
    ws.readyWaiter?.reject(ws.killed ? new WorkgroupSetupException(index, 'it was killed before it was ready') : new WorkgroupSetupException(index, `${why} before it was ready`, cause));
    ws.readyWaiter = undefined;
    // 5. Its arena blocks, its shared words, its slot.
    try {
      arena.reclaimOwner(ws.slot + 1);
      codec.forgetWorker(ws.slot);
    } catch (e) {
      config.logger.warn?.(`isolate-workgroup: could not reclaim the arena blocks of worker #${index}`, e);
    }
    ws.resetControlBlock();
    workers.freeSlotOf(ws);
    ws.markExited();
    // 6. Report a crash once, and replace the worker.
    if (crashed) errors.fire('communication', new WorkgroupMemberDeadException(index, why, cause), { isolateIndex: index });
    if ((crashed || (ws.intent === 'replace' && serving)) && config.respawn && this.#host.active) this.#scheduleRespawn(index, facts);
    pending.poke(); // a drain waiting for the live workers looks again
  }

  /**
   * The arena blocks of spill records (lane records too big for the ring) the worker never read: the worker
   * frees them when it reads them, so for a dead worker main walks what is left of its direct ring.
   */
  #freeUnreadSpills(ws: WorkerSlot): void {
    const { arena } = this.#p;
    try {
      const layout = readLaneLayout(ws.laneBuffer);
      const ring = new SpscConsumer(ws.laneBuffer, LANE_DIRECT_HEADER, layout.directData, layout.directCapacity);
      for (let off = ring.next(); off >= 0; off = ring.next()) {
        if (ring.type === REC_SPILL) {
          const handle = { offset: readWord(ring.u8, off + R_SECOND) | 0, generation: readWord(ring.u8, off + R_SPILL_GENERATION) | 0 };
          if (arena.isLive(handle)) arena.free(handle);
        }
        ring.advance();
      }
    } catch {
      // a ring the dying worker left inconsistent: nothing more to free
    }
  }

  /**
   * Gives the queue cells no live worker claims back to the front of the queue (a dead worker claimed them
   * and never started them). Jobs in `held` started: they are rejected by the caller, not re-run.
   */
  #repair(dead: WorkerSlot | undefined, held: ReadonlySet<number>): void {
    const { dispatcher, pending, arena, workers } = this.#p;
    const q = dispatcher.queue;
    const requeue: Pending[] = [];
    // Every thread still running may hold a claim (also one being killed): read after dequeuePos (see repairStuck).
    const intents = (): Set<number> => {
      const live = new Set<number>();
      for (const w of workers.values()) if (w !== dead && !w.exited) live.add(w.claimIntent());
      return live;
    };
    q.repairStuck(intents, (pos) => {
      const p = pending.get(dispatcher.idAt(pos));
      if (!p || held.has(p.id) || p.queuePos !== pos) return; // settled already, or it started: rejected by the caller
      if (p.status === 'cancelled') {
        pending.forget(p); // cancelled while the dead worker held the cell: never run it
        return;
      }
      const len = dispatcher.cellLength(pos);
      if (!p.arena) {
        const off = q.cellPayloadOffset(pos);
        p.bytes = q.u8.slice(off, off + Math.min(CELL_INLINE_MAX, len));
      } else {
        p.bytes = arena.viewOf(p.arena, len).slice();
        arena.free(p.arena);
        p.arena = undefined;
      }
      requeue.push(p);
    });
    this.#repairAgain = q.deferred > 0;
    dispatcher.requeue(requeue);
  }

  /** Supervision tick: repairs the queue again while a stale claim intent hid a dead worker's cell. */
  tick(): void {
    if (this.#repairAgain) this.#repair(undefined, new Set());
  }

  /** True while a crashed worker's replacement is on its way (scheduled, or starting). */
  get respawning(): boolean {
    return this.#respawnsPending > 0;
  }

  /** Replaces a crashed worker (new index), backing off and then stopping when replacements die at start-up. */
  #scheduleRespawn(index: number, facts: DeathFacts): void {
    const decision = this.#respawn.onDeath(facts);
    const errors = this.#p.errors;
    if (decision.kind === 'give-up') {
      if (decision.earlyDeaths === RESPAWN_LIMIT) {
        errors.fire(
          'communication',
          new WorkgroupMemberDeadException(
            index,
            `${decision.earlyDeaths} workers in a row died within ${EARLY_DEATH_MS} ms of starting, before finishing any work: ` +
              'the workgroup stops replacing crashed workers until addIsolate() is called (look for a work module whose setup() leaves something behind that kills the thread)',
          ),
          { isolateIndex: index },
        );
      }
      return;
    }
    this.#respawnsPending++;
    const go = (): void => {
      if (!this.#host.active) {
        this.#respawnsPending--;
        return;
      }
      this.addIsolate(undefined, false)
        .catch((e: unknown) => {
          if (this.#host.active) errors.fire('initialization', e, { isolateIndex: -1 });
        })
        .finally(() => this.#respawnsPending--);
    };
    if (decision.delayMs === 0) go();
    else this.#p.platform.unrefTimer(setTimeout(go, decision.delayMs));
  }
}
