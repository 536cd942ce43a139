/**
 * The main-thread scheduler: owns the shared regions, the workers, the work in flight and the results
 * loop. The public classes in src/api are thin wrappers around it.
 *
 * Hot path (dispatch of a job to "any worker"): encode straight into the next cell of the shared queue
 * (or the arena when it does not fit), publish with one store, and — once per tick, for the whole batch —
 * wake at most as many parked workers as jobs were published. Results: workers publish into their result
 * rings and ring one doorbell word; main waits on it with `Atomics.waitAsync` (never blocking), drains
 * every ring flagged dirty, and settles the promises in a batch.
 *
 * This file: the shared state, lifecycle (launch, workers starting and stopping, shutdown) and process lifetime.
 * The layers above add dispatch (core-dispatch.ts), results (core-results.ts), members and control
 * messages (core-members.ts), failures and resizing (core.ts).
 */
import { Arena, createArenaBuffer } from '../memory/arena.js';
import { JobQueueProducer } from '../ring/job-queue.js';
import { CB_CLAIM_INTENT, CMD_STOP, FLAG_SHUTDOWN, POOL_FLAGS_I32, controlBase, createPoolRegion, POOL_MAX_SPINNERS_I32 } from '../ring/layout.js';
import { WorkgroupException, WorkgroupInactiveException, WorkgroupJobAbortedException, WorkgroupSetupException } from '../api/errors.js';
import type { ResolvedConfig } from '../api/config.js';
import type { ControlToMain } from '../ring/protocol.js';
import type { IsolateErrorType } from './error-router.js';
import { ErrorRouter } from './error-router.js';
import { MainCodec } from './main-codec.js';
import { explainImportError } from '../shared/import-errors.js';
import type { Pending } from './pending.js';
import type { Platform, WorkerHandle } from './platform.js';
import { RespawnGuard } from './respawn.js';
import { WorkerSlot } from './worker-slot.js';
import { leakOptions } from './payloads.js';
import { ignore, type WorkgroupState, type MemberRecord, type ControlWaiter } from './core-shared.js';

export abstract class WorkgroupCoreBase {
  readonly config: ResolvedConfig;
  readonly platform: Platform;
  readonly errors: ErrorRouter;
  state: WorkgroupState = 'idle';
  protected readonly _initialCount: number;
  protected _pool!: SharedArrayBuffer;
  protected _i32!: Int32Array;
  protected _queue!: JobQueueProducer;
  protected _queueIds!: Int32Array;
  protected _arena!: Arena;
  protected _codec!: MainCodec;
  protected readonly _workers = new Map<number, WorkerSlot>();
  protected readonly _bySlot: (WorkerSlot | undefined)[] = [];
  protected _nextIndex = 0;
  protected _nextId = 1;
  protected _nextMemberId = 1;
  protected readonly _pending = new Map<number, Pending>();
  /** Jobs waiting for room in the shared queue, FIFO. Their encoded bytes sit in one growable slab. */
  protected readonly _backlog: Pending[] = [];
  protected _backlogHead = 0;
  protected _slab = new Uint8Array(64 * 1024);
  protected _slabUsed = 0;
  protected readonly _members = new Map<number, MemberRecord>();
  protected readonly _memberWaiters = new Map<number, ControlWaiter>();
  protected readonly _destroyWaiters = new Map<number, ControlWaiter>();
  protected _kickScheduled = false;
  protected _publishedSinceKick = 0;
  protected _pumping = false;
  protected _refd = false;
  protected _launched = false;
  protected _shuttingDown: Promise<void> | undefined;
  readonly captureMainStack: 'await' | 'eager' | 'off';
  /** Pending while the main thread imports the work modules during launch(). */
  protected _modulesReady: Promise<void> | undefined;
  /**
   * addIsolate() calls (the user's and respawns) run one after another, after launch: each reserves index
   * `isolatesCount` and commits it only once its worker is ready, so a failed one gives it back exactly.
   */
  protected _addChain: Promise<unknown> = Promise.resolve();
  /** Set when launch() ended with no worker running: new work is refused with it until addIsolate() succeeds. */
  protected _noWorkers: Error | undefined;
  protected readonly _respawn = new RespawnGuard();
  /**
   * Set by the health monitor when `checkBeforeDispatching` is on: resolves when `ws` may get work (fresh, or
   * it answered a probe), rejects when it did not answer; undefined when no probe is needed.
   */
  preflight: ((ws: WorkerSlot) => Promise<void> | undefined) | undefined;

  // Implemented by the layers above (core-dispatch, core-results, core-members, core).
  protected abstract _onControl(ws: WorkerSlot, m: ControlToMain): void;
  protected abstract _onExit(ws: WorkerSlot, code: number | undefined, error: unknown): void;
  protected abstract _pullControl(slot: number): undefined;
  protected abstract _pump(): void;
  protected abstract _settleErr(p: Pending, error: unknown, route: boolean, type?: Exclude<IsolateErrorType, 'all'>, ws?: WorkerSlot): void;
  protected abstract _sendWithTransfer(ws: WorkerSlot, p: Pending, job: unknown, transfer: ReadonlySet<ArrayBuffer>): void;
  protected abstract _answerNotify(ws: WorkerSlot, notifyId: number, memberId: number, command: unknown): Promise<void>;
  protected abstract _replyNotify(ws: WorkerSlot, notifyId: number, ok: boolean, value: unknown): void;
  protected abstract _supervise(): void;
  protected abstract _liveIndices(): string;
  abstract resolveIndex(index: number): WorkerSlot | WorkgroupException;

  constructor(workerCount: number, config: ResolvedConfig, platform: Platform, captureMainStack: 'await' | 'eager' | 'off' = 'await') {
    this._initialCount = workerCount;
    this.config = config;
    this.platform = platform;
    this.errors = new ErrorRouter(config.logger);
    this.captureMainStack = captureMainStack;
  }

  // ------------------------------------------------------------------ getters

  get isolatesCount(): number {
    return this._nextIndex;
  }

  get liveIsolateCount(): number {
    let n = 0;
    for (const w of this._workers.values()) if (w.live && w.index < this._nextIndex) n++; // not a provisional addIsolate
    return n;
  }

  get memberCount(): number {
    let n = 0;
    for (const m of this._members.values()) if (m.state === 'starting' || m.state === 'ready') n++;
    return n;
  }

  get pendingCount(): number {
    return this._pending.size;
  }

  get launched(): boolean {
    return this._launched;
  }

  workers(): IterableIterator<WorkerSlot> {
    return this._workers.values();
  }

  worker(index: number): WorkerSlot | undefined {
    return this._workers.get(index);
  }

  get pool(): SharedArrayBuffer {
    return this._pool;
  }

  get arena(): Arena {
    return this._arena;
  }

  get codec(): MainCodec {
    return this._codec;
  }

  /** Jobs queued and not yet taken by a worker (shared queue + backlog). */
  get queuedCount(): number {
    return (this._queue ? this._queue.size : 0) + (this._backlog.length - this._backlogHead);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Spawns the initial workers; resolves when all are ready (or rejects with the first setup failure). */
  launch(): Promise<void> {
    const first = !this._launched && this.state !== 'disposed';
    const run = this._launch();
    if (first) this._addChain = run.catch(() => undefined); // addIsolate waits for the initial indices
    return run;
  }

  protected async _launch(): Promise<void> {
    if (this.state === 'disposed') throw new WorkgroupInactiveException('launch() after shutdown(): create a new IsolateWorkgroup');
    if (this._launched) throw new WorkgroupException('launch() was already called on this workgroup');
    this._launched = true;
    this.state = 'active';
    const c = this.config;
    this._pool = createPoolRegion(c.maxWorkers, c.queueCapacity);
    this._i32 = new Int32Array(this._pool);
    this._i32[POOL_MAX_SPINNERS_I32] = c.maxSpinningWorkers; // read by workers (plain: before any spawn)
    this._queue = new JobQueueProducer(this._pool);
    this._queueIds = new Int32Array(c.queueCapacity);
    this._arena = new Arena(createArenaBuffer({ initialBytes: c.arenaInitialBytes, maxBytes: c.arenaMaxBytes, maxOwners: c.maxWorkers + 1 }), 0, leakOptions(c));
    this._codec = new MainCodec(this._pool, this._arena);
    this._codec.outOfBand.awaitInbox = (slot) => this._pullControl(slot);
    this._codec.introduce = (id, buffer) => {
      for (const w of this._workers.values()) {
        if (!w.live) continue;
        w.handle?.post({ type: 'sab', id, buffer });
        w.signalControl();
      }
    };
    // Main imports the work modules too: it must know their classes to send them. Work dispatched
    // meanwhile waits for this (in order), then goes to the queue that the workers drain once ready.
    const modulesReady = Promise.all(c.modules.map((url) => this._codec.registry.load(url))).then(
      () => {
        this._modulesReady = undefined;
      },
      (error: unknown) => {
        const url = c.modules.find((u) => !this._codec.registry.isLoaded(u)) ?? c.modules[0];
        const explained = explainImportError(error);
        throw new WorkgroupSetupException(-1, `the main thread could not import work module ${url}: ${(explained as Error)?.message ?? explained}`, { cause: explained });
      },
    );
    this._modulesReady = modulesReady;
    // The workers start now, while main imports the modules: each side imports them itself, and a
    // thread's start is the slow part of launch().
    const failures: WorkgroupSetupException[] = [];
    const start = async (): Promise<void> => {
      const index = this._nextIndex++;
      try {
        await this._startWorker(index, undefined);
      } catch (e) {
        if (!this._workers.get(index)?.killed) failures.push(e as WorkgroupSetupException); // kill() during launch is no failure
      }
    };
    const started =
      c.startupPolicy === 'sequential'
        ? (async () => {
            for (let i = 0; i < this._initialCount; i++) await start();
          })()
        : Promise.all(Array.from({ length: this._initialCount }, start));
    const mainImport = await modulesReady.then(() => undefined, (e: unknown) => e as WorkgroupSetupException);
    await started;
    if (mainImport !== undefined) {
      this._updateRefs(); // the workers that did start may not keep the process alive
      throw mainImport;
    }
    if (this.state !== 'active') throw new WorkgroupInactiveException('the workgroup was shut down while it launched');
    if (failures.length > 0) {
      failures.sort((a, b) => a.isolateIndex - b.isolateIndex);
      if (this.liveIsolateCount === 0) {
        // Nothing will ever run: refuse work clearly instead of queueing it forever, and release what
        // was dispatched while launching.
        const first = failures[0]!;
        this._noWorkers = new WorkgroupException(
          `no worker is running: every worker failed to start (first: ${first.message}). Fix the cause and call addIsolate(), or shut down`,
          { cause: first },
        );
        for (const p of [...this._pending.values()]) this._settleErr(p, this._noWorkers, false);
      }
      if (this.errors.has('initialization')) {
        for (const f of failures) this.errors.fire('initialization', f, { isolateIndex: f.isolateIndex });
      } else {
        throw failures[0];
      }
    }
    this._updateRefs();
  }

  /** Spawns one worker at `index`; resolves when it is ready, rejects with WorkgroupSetupException. */
  protected _startWorker(index: number, label: string | undefined): Promise<WorkerSlot> {
    const c = this.config;
    const slot = this._freeSlot();
    if (slot < 0) return Promise.reject(new WorkgroupException(`all ${c.maxWorkers} worker slots are in use: raise \`maxWorkers\``));
    const name = label ?? c.labelBuilder(index);
    const ws = new WorkerSlot(index, slot, name, this._pool, c.directRingBytes, c.resultRingBytes);
    this._workers.set(index, ws);
    this._bySlot[slot] = ws;
    const cb = controlBase(slot);
    Atomics.store(this._i32, cb + CB_CLAIM_INTENT, -1);
    const ready = new Promise<WorkerSlot>((resolve, reject) => {
      ws.readyWaiter = { resolve: () => resolve(ws), reject };
    });
    ready.catch(ignore); // callers observe it; a rejection nobody awaits (shutdown mid-start) is not "unhandled"
    try {
      ws.handle = this._spawn(ws, slot, index, name);
    } catch (error) {
      // The platform refused to start the thread (e.g. bad workerOptions.execArgv): roll the slot back.
      this._workers.delete(index);
      this._bySlot[slot] = undefined;
      ws.readyWaiter = undefined;
      ws.state = 'failed';
      ws.markExited();
      const msg = error instanceof Error ? error.message : String(error);
      return Promise.reject(new WorkgroupSetupException(index, `could not start the worker thread: ${msg} (check \`workerOptions\`)`, { cause: error }));
    }
    return ready;
  }

  protected _spawn(ws: WorkerSlot, slot: number, index: number, name: string): WorkerHandle {
    const c = this.config;
    return this.platform.spawn(
      {
        label: name,
        workerOptions: c.workerOptions,
        init: {
          type: 'init',
          pool: this._pool,
          lane: ws.lane,
          arena: this._arena.sab,
          slot,
          index,
          label: name,
          modules: c.modules,
          concurrency: c.concurrency,
          spinIterations: c.spinIterations,
          parkTimeoutMs: c.parkTimeoutMs,
          progress: c.progress,
          sharedBuffers: this._codec.knownBuffers(),
        },
      },
      {
        message: (m) => this._onControl(ws, m),
        exit: (code, error) => this._onExit(ws, code, error),
      },
    );
  }

  protected _freeSlot(): number {
    for (let s = 0; s < this.config.maxWorkers; s++) if (this._bySlot[s] === undefined) return s;
    return -1;
  }

  /** Rejects everything pending (or drains first), stops every worker, resolves when all threads exited. */
  shutdown(drain: boolean): Promise<void> {
    if (this._shuttingDown) return this._shuttingDown;
    const wasLaunched = this._launched;
    this._shuttingDown = (async () => {
      if (drain && wasLaunched) {
        this.state = 'disposed';
        while (this._pending.size > 0 && this.liveIsolateCount > 0) await this._waitForSettle();
      }
      this.state = 'disposed';
      const aborted = (what: string) => new WorkgroupJobAbortedException(`the workgroup was shut down - ${what} cancelled`);
      for (const p of [...this._pending.values()]) this._settleErr(p, aborted(p.kind === 'job' ? 'job' : 'request'), false);
      for (const [id, w] of [...this._memberWaiters]) {
        this._memberWaiters.delete(id);
        w.reject(aborted('instance creation'));
      }
      if (!wasLaunched) return;
      Atomics.or(this._i32, POOL_FLAGS_I32, FLAG_SHUTDOWN);
      const exits: Promise<void>[] = [];
      for (const w of this._workers.values()) {
        if (w.exited) continue;
        if (w.state === 'starting') w.readyWaiter?.reject(new WorkgroupInactiveException('the workgroup was shut down while this worker started'));
        // A busy worker is terminated at once (its work was just rejected); an idle one stops
        // cooperatively, so it can run its members' dispose(). (Terminating idle workers at once was
        // tried for speed: Node's terminate() of a worker still loading its modules was seen never to
        // settle, leaving shutdown() pending.)
        const busy = w.isBusy();
        w.state = 'stopping';
        w.command(CMD_STOP);
        w.handle?.ref();
        exits.push(this._stopWorker(w, busy ? 0 : 2000));
      }
      await Promise.all(exits);
      for (const [id, w] of [...this._destroyWaiters]) {
        this._destroyWaiters.delete(id);
        w.resolve();
      }
    })();
    return this._shuttingDown;
  }

  /** Waits for a cooperative stop, then terminates; resolves once the thread has exited. */
  protected async _stopWorker(w: WorkerSlot, graceMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const stopped = await Promise.race([w.exitedPromise.then(() => false), timedOut]);
    clearTimeout(timer);
    if (stopped || !w.exited) await w.handle?.terminate();
    await w.exitedPromise;
  }

  protected _settleWaiters: Array<() => void> = [];

  protected _waitForSettle(): Promise<void> {
    return new Promise((resolve) => this._settleWaiters.push(resolve));
  }

  protected _notifySettled(): void {
    if (this._settleWaiters.length === 0) return;
    const list = this._settleWaiters;
    this._settleWaiters = [];
    for (const f of list) f();
  }

  // ------------------------------------------------------------------ process lifetime

  /** Workers are ref'd while work is outstanding (a pending waitAsync alone does not keep Node alive). */
  protected _updateRefs(): void {
    const want = this._pending.size > 0 || this._memberWaiters.size > 0 || this._destroyWaiters.size > 0 || this._anyStarting();
    if (want === this._refd) return;
    this._refd = want;
    for (const w of this._workers.values()) {
      if (w.exited) continue;
      if (want) w.handle?.ref();
      else w.handle?.unref();
    }
    if (want) this._pump();
  }

  protected _anyStarting(): boolean {
    for (const w of this._workers.values()) if (w.state === 'starting' && !w.exited) return true;
    return false;
  }
}
