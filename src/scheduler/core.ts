/**
 * The main-thread core: a facade that wires the parts below and holds the workgroup's lifecycle (launch,
 * shutdown). The public classes in src/api are thin wrappers around it.
 *
 * | part              | file                | owns                                                            |
 * |-------------------|---------------------|-----------------------------------------------------------------|
 * | pending table     | pending.ts          | every call in flight, its status, settling it exactly once      |
 * | keep-alive        | keep-alive.ts       | process lifetime: alive exactly while something is outstanding |
 * | dispatcher        | dispatcher.ts       | the shared-queue producer, the backlog, refill, wake-ups        |
 * | lane writer       | lane-writer.ts      | one worker's direct ring, its backlog, transfers                |
 * | cancellation      | cancellation.ts     | signals and timeouts, wherever the work is                      |
 * | results loop      | results-loop.ts     | wait, drain, ordered decoding, settling                         |
 * | worker registry   | worker-registry.ts  | indices, start, kill, retire, respawn, the exit script          |
 * | member table      | member-table.ts     | members, placement, invoke, destroy, notifyHost answers         |
 *
 * Hot path (dispatch to "any worker"): encode straight into the next cell of the shared queue, publish
 * with one store, and — once per tick, for the whole batch — wake at most as many parked workers as jobs
 * were published. Results: workers publish into their result rings and bump one results word; the results
 * loop waits on it with `Atomics.waitAsync` (never blocking), drains and settles in a batch.
 */
import { Arena, createArenaBuffer } from '../memory/arena.js';
import { CMD_STOP, FLAG_SHUTDOWN, POOL_FLAGS_I32, POOL_MAX_SPINNERS_I32, createPoolRegion } from '../ring/layout.js';
import { REC_NOTIFY_REPLY, type ControlToMain } from '../ring/protocol.js';
import { readWord } from '../ring/records.js';
import type { ResolvedConfig } from '../shared/config-types.js';
import { InvalidWorkgroupResponseException, WorkgroupException, WorkgroupInactiveException, WorkgroupJobAbortedException, WorkgroupNotReadyException, WorkgroupSetupException, withCallerStack, withCallerStackSettled } from '../shared/errors.js';
import { explainImportError } from '../shared/import-errors.js';
import type { Platform } from '../shared/platform.js';
import type { BatchMode } from './batch.js';
import { Cancellation } from './cancellation.js';
import { Dispatcher } from './dispatcher.js';
import { ErrorRouter } from './error-router.js';
import { KeepAlive } from './keep-alive.js';
import type { LaneItem } from './lane-writer.js';
import { MainCodec } from './main-codec.js';
import { MemberTable } from './member-table.js';
import { leakOptions, sendTracked } from './payloads.js';
import { PendingTable, type Pending } from './pending.js';
import { JobCalls } from './job-calls.js';
import { ResultsLoop } from './results-loop.js';
import { type BatchOptions, type DispatchOptions, type InvokeOptions, type MemberRecord, type WorkgroupState } from './types.js';
import { WorkerRegistry } from './worker-registry.js';
import { WorkerSet } from './worker-set.js';
import type { WorkerSlot } from './worker-slot.js';

export { describeValue, type BatchOptions, type DispatchOptions, type MemberRecord, type WorkgroupState } from './types.js';

export class WorkgroupCore {
  readonly config: ResolvedConfig;
  readonly platform: Platform;
  readonly errors: ErrorRouter;
  readonly captureMainStack: 'await' | 'eager' | 'off';
  readonly pool: SharedArrayBuffer;
  readonly arena: Arena;
  readonly codec: MainCodec;
  readonly keepAlive: KeepAlive;
  readonly #pending: PendingTable;
  readonly #workers: WorkerSet;
  readonly #dispatcher: Dispatcher;
  readonly #cancellation: Cancellation;
  readonly #results: ResultsLoop;
  readonly #members: MemberTable;
  readonly #registry: WorkerRegistry;
  readonly #calls: JobCalls;
  readonly #initialCount: number;
  state: WorkgroupState = 'idle';
  #launched = false;
  #shuttingDown: Promise<void> | undefined;
  /** Pending while the main thread imports the work modules during launch(). */
  #modulesReady: Promise<void> | undefined;
  /** Set when launch() ended with no worker running: new work is refused with it until addIsolate() succeeds. */
  #noWorkers: Error | undefined;
  /** Set by the health monitor with `checkBeforeDispatching`: a probe to await before giving `ws` work. */
  preflight: ((ws: WorkerSlot) => Promise<void> | undefined) | undefined;
  /** Health supervision tick (runs with the results loop). */
  onTick: (() => void) | undefined;

  constructor(workerCount: number, config: ResolvedConfig, platform: Platform, captureMainStack: 'await' | 'eager' | 'off' = 'await') {
    const c = config;
    const self = this; // for the parts' live getters
    this.#initialCount = workerCount;
    this.config = c;
    this.platform = platform;
    this.captureMainStack = captureMainStack;
    this.errors = new ErrorRouter(c.logger);
    this.pool = createPoolRegion(c.maxWorkers, c.queueCapacity);
    new Int32Array(this.pool)[POOL_MAX_SPINNERS_I32] = c.maxSpinningWorkers; // read by workers (plain: before any spawn)
    this.arena = new Arena(createArenaBuffer({ initialBytes: c.arenaInitialBytes, maxBytes: c.arenaMaxBytes, maxOwners: c.maxWorkers + 1 }), 0, leakOptions(c));
    this.codec = new MainCodec(this.pool, this.arena);
    this.#pending = new PendingTable((p) => this.#release(p), () => this.#outstandingChanged());
    this.keepAlive = new KeepAlive(platform, () => this.#pending.size > 0);
    this.#workers = new WorkerSet(c.maxWorkers);
    this.#dispatcher = new Dispatcher(this.pool, this.codec, this.arena, this.#pending, this.#workers);
    this.#dispatcher.afterKick = () => this.#results.start();
    this.#dispatcher.onUnplaceable = (p, e) => this.#pending.reject(p, new WorkgroupException(`the job could not be queued: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
    this.#cancellation = new Cancellation(this.#pending, this.#dispatcher, this.#workers, {
      replace: (ws, reason) => this.#registry.retire(ws, reason),
      get active() {
        return self.state === 'active';
      },
      cancelGraceMs: c.cancelGraceMs,
      unrefTimer: (t) => platform.unrefTimer(t),
      warn: (m) => c.logger.warn?.(m),
    });
    const parts = { pending: this.#pending, workers: this.#workers, codec: this.codec, arena: this.arena, errors: this.errors, platform, keepAlive: this.keepAlive, cancellation: this.#cancellation };
    this.#results = new ResultsLoop(this.pool, parts, c, {
      get outstanding() {
        return self.#pending.tracked > 0 || self.keepAlive.wanted;
      },
      beforeWait: () => this.#feedWorkers(),
      afterDrain: () => this.#feedWorkers(),
      notify: (ws, notifyId, memberId, command, failed) => this.#members.notify(ws, notifyId, memberId, command, failed),
      tick: () => {
        this.#registry.tick();
        this.onTick?.();
      },
    });
    this.#members = new MemberTable(parts, {
      refusal: () => this.checkAccepting(),
      resolveIndex: (i) => this.resolveIndex(i),
      preflight: (ws) => this.preflight?.(ws),
      sendTracked: (p, send) => sendTracked(this.codec.outOfBand, p, send, undefined),
      scheduleKick: () => this.#dispatcher.scheduleKick(),
    });
    this.#registry = new WorkerRegistry({ ...parts, pool: this.pool, dispatcher: this.#dispatcher, results: this.#results, members: this.#members, config: c }, {
      get active() {
        return self.state === 'active';
      },
      control: (ws, m) => this.#control(ws, m),
      unplaceable: (ws, item, error) => this.#laneUnplaceable(ws, item, error),
      decodeStandalone: (bytes, ws) => this.#decodeStandalone(bytes, ws),
    });
    this.#calls = new JobCalls({ pending: this.#pending, dispatcher: this.#dispatcher, cancellation: this.#cancellation, workers: this.#workers, codec: this.codec, config: c }, {
      refusal: () => this.checkAccepting(),
      modulesReady: () => this.#modulesReady,
      resolveIndex: (i) => this.resolveIndex(i),
    });
    this.codec.outOfBand.awaitInbox = (slot) => this.#pullControl(slot);
    this.codec.introduce = (id, buffer) => {
      for (const w of this.#workers.values()) {
        if (!w.live) continue;
        w.handle?.post({ type: 'sab', id, buffer });
        w.signalControl();
      }
    };
  }

  // ------------------------------------------------------------------ state

  get isolatesCount(): number {
    return this.#workers.nextIndex;
  }
  get liveIsolateCount(): number {
    return this.#workers.liveCount;
  }
  /** A crashed worker's replacement is on its way (respawn scheduled or starting). */
  get respawning(): boolean {
    return this.#registry.respawning;
  }
  get memberCount(): number {
    return this.#members.count;
  }
  /** Queued + running jobs + pending invokes, and jobs waiting for their class's module to load. */
  get pendingCount(): number {
    return this.#pending.size + this.#calls.loading;
  }
  get launched(): boolean {
    return this.#launched;
  }
  get queuedCount(): number {
    return this.#dispatcher.queuedCount;
  }
  workers(): IterableIterator<WorkerSlot> {
    return this.#workers.values();
  }
  worker(index: number): WorkerSlot | undefined {
    return this.#workers.get(index);
  }
  resolveIndex(index: number): WorkerSlot | WorkgroupException {
    return this.#registry.resolveIndex(index);
  }
  retire(ws: WorkerSlot, reason: string): void {
    this.#registry.retire(ws, reason);
  }
  /** Stops an idle, member-less worker cooperatively (autoscaling); false when it is not idle. */
  retireIdle(ws: WorkerSlot): boolean {
    return this.state === 'active' && this.#registry.retireIdle(ws);
  }

  /** The error a new job or call is refused with, if any. */
  checkAccepting(): Error | undefined {
    if (this.state === 'disposed') return new WorkgroupInactiveException('the workgroup was shut down: it accepts no new work');
    if (!this.#launched) return new WorkgroupNotReadyException('call launch() before dispatching work');
    return this.#noWorkers;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Spawns the initial workers; resolves when all are ready (or rejects with the first setup failure). */
  async launch(): Promise<void> {
    if (this.state === 'disposed') throw new WorkgroupInactiveException('launch() after shutdown(): create a new IsolateWorkgroup');
    if (this.#launched) throw new WorkgroupException('launch() was already called on this workgroup');
    this.#launched = true;
    this.state = 'active';
    await this.keepAlive.during(async () => {
      const c = this.config;
      // Main imports the work modules too: it must know their classes to send them. Work dispatched
      // meanwhile waits for this (in order), then goes to the queue that the workers drain once ready.
      const registry = this.codec.registry;
      // The program's entry module (a one-file program) is never waited for: see ClassRegistry.defer().
      if (c.entryModule !== undefined) registry.defer(c.entryModule, c.modules.includes(c.entryModule));
      const toLoad = c.modules.filter((url) => !registry.isDeferred(url));
      this.#modulesReady = Promise.all(toLoad.map((url) => registry.load(url))).then(
        () => void (this.#modulesReady = undefined),
        (error: unknown) => {
          const url = c.modules.find((u) => !registry.isLoaded(u)) ?? c.modules[0];
          const explained = explainImportError(error);
          throw new WorkgroupSetupException(-1, `the main thread could not import work module ${url}: ${(explained as Error)?.message ?? explained}`, { cause: explained });
        },
      );
      const started = this.#registry.launch(this.#initialCount, c.startupPolicy === 'sequential', this.#modulesReady);
      await this.#modulesReady;
      const failures = await started;
      if (this.state !== 'active') throw new WorkgroupInactiveException('the workgroup was shut down while it launched');
      if (failures.length === 0) return;
      if (this.#workers.liveCount === 0) {
        // Nothing will ever run: refuse work clearly instead of queueing it forever, and release what was dispatched while launching.
        const first = failures[0]!;
        this.#noWorkers = new WorkgroupException(`no worker is running: every worker failed to start (first: ${first.message}). Fix the cause and call addIsolate(), or shut down`, { cause: first });
        for (const p of [...this.#pending.values()]) this.#pending.reject(p, this.#noWorkers);
      }
      if (!this.errors.has('initialization')) throw failures[0];
      for (const f of failures) this.errors.fire('initialization', f, { isolateIndex: f.isolateIndex });
    });
  }

  /** Rejects everything pending (or drains first), stops every worker, resolves when all threads exited. */
  shutdown(drain: boolean): Promise<void> {
    this.#shuttingDown ??= this.keepAlive
      .during(async () => {
        const wasLaunched = this.#launched;
        if (drain && wasLaunched) {
          this.state = 'disposed';
          while (this.#pending.size > 0 && this.#workers.liveCount > 0) await this.#pending.nextSettle();
        }
        this.state = 'disposed';
        // Workers first: from now on they start nothing more of what main sent (it is rejected below).
        if (wasLaunched) Atomics.or(new Int32Array(this.pool), POOL_FLAGS_I32, FLAG_SHUTDOWN);
        const aborted = (what: string): Error => new WorkgroupJobAbortedException(`the workgroup was shut down - ${what} cancelled`);
        for (const p of [...this.#pending.values()]) if (p.status !== 'cancelled') this.#pending.reject(p, aborted(p.kind === 'job' ? 'job' : 'request'));
        this.#members.rejectCreations(aborted);
        if (!wasLaunched) return;
        await this.#registry.stopAll((w) => w.command(CMD_STOP), 2000);
        this.#members.resolveDestructions();
        for (const p of [...this.#pending.values()]) this.#pending.forget(p); // cancelled work of workers now gone
        this.#results.stop();
      })
      .finally(() => this.keepAlive.close());
    return this.#shuttingDown;
  }

  addIsolate(label: string | undefined): Promise<number> {
    const refused = this.#refuseResize('add isolate');
    if (refused) return Promise.reject(refused);
    return this.#registry.addIsolate(label, true).then((index) => {
      this.#noWorkers = undefined; // a launch that started no worker is usable again
      return index;
    });
  }

  async kill(index: number): Promise<void> {
    const refused = this.#refuseResize('kill isolate');
    if (refused) throw refused;
    await this.#registry.kill(index);
  }

  #refuseResize(what: string): WorkgroupException | undefined {
    if (this.state === 'disposed') return new WorkgroupInactiveException(`Cannot ${what} - workgroup has been shut down`);
    if (!this.#launched) return new WorkgroupNotReadyException(`Cannot ${what} - workgroup is not active: call launch() first`);
    return undefined;
  }

  // ------------------------------------------------------------------ calls

  /** Wraps a call's promise so a worker error gets the caller's await chain as its main stack (mode 'await'). */
  withStack<T>(promise: Promise<T>): Promise<T> {
    return this.captureMainStack === 'await' ? withCallerStack(promise) : promise;
  }

  /** `withStack` for a settled batch: the errors among its outcomes get the caller's side too. */
  withStackSettled<T extends readonly unknown[]>(promise: Promise<T>): Promise<T> {
    return this.captureMainStack === 'await' ? withCallerStackSettled(promise) : promise;
  }

  captureSite(): { stack?: string } | undefined {
    if (this.captureMainStack !== 'eager') return undefined;
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, this.captureSite);
    return site;
  }

  dispatch(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    return this.#calls.dispatch(job, options, site);
  }

  /**
   * `dispatch`, and `gone`: resolves once no thread touches the job any more — it settled, or (cancelled
   * while a worker ran it) its late answer came or its worker is gone; at once when it was never sent.
   * For work whose shared memory may be freed only then.
   */
  dispatchTracked(job: unknown, options: DispatchOptions | undefined, site: { stack?: string } | undefined): { result: Promise<unknown>; gone: Promise<void> } {
    let done!: () => void;
    const gone = new Promise<void>((resolve) => (done = resolve));
    const tracker = { attached: false, gone: done };
    const result = this.#calls.dispatch(job, options, site, tracker);
    result.then(undefined, () => {
      if (!tracker.attached) done();
    });
    return { result, gone };
  }

  dispatchAll(jobs: readonly unknown[], options: BatchOptions | undefined, site: { stack?: string } | undefined, mode: BatchMode): Promise<unknown[]> {
    return this.#calls.dispatchAll(jobs, options, site, mode);
  }

  addInstance(member: unknown, isolate: number | undefined, onNotify: ((c: unknown) => unknown) | undefined): Promise<MemberRecord> {
    return this.#members.add(member, isolate === -1 ? undefined : isolate, onNotify);
  }

  invoke(memberId: number, command: unknown, options: InvokeOptions | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    return this.#members.invoke(memberId, command, options, site);
  }

  destroyInstance(memberId: number): Promise<void> {
    return this.#members.destroy(memberId);
  }

  // ------------------------------------------------------------------ wiring

  /** Gives back what an entry held when it leaves the pending table. */
  #release(p: Pending): void {
    p.cleanup?.();
    p.cleanup = undefined;
    if (p.blobs) {
      // Out-of-band copies of its frame that no worker decoded (cancelled while queued, worker gone).
      for (const h of p.blobs) this.codec.outOfBand.freeIfStillLive(h);
      p.blobs = undefined;
    }
    if (p.arena) {
      if (this.arena.isLive(p.arena)) this.arena.free(p.arena);
      p.arena = undefined;
    }
    p.worker?.laneWork.delete(p.id);
    if (p.memberId) this.#members.forgetInvoke(p.memberId, p.id);
  }

  /** The pending table became empty or non-empty. */
  #outstandingChanged(): void {
    this.keepAlive.update();
    if (this.#pending.tracked > 0) this.#results.startSoon();
  }

  /** Refill the queue from the backlog, flush lane backlogs, wake workers for what was published. */
  #feedWorkers(): void {
    const d = this.#dispatcher;
    if (d.hasBacklog) d.refill();
    for (const ws of this.#workers.values()) if (ws.live && ws.writer && ws.writer.backlogLength > 0) ws.writer.flush();
    d.kick();
  }

  #laneUnplaceable(ws: WorkerSlot, item: LaneItem, error: unknown): void {
    if (item.type === REC_NOTIFY_REPLY) return this.#members.replyUnplaceable(ws, readWord(item.bytes, 0), error);
    const p = this.#pending.get(item.id);
    if (p) this.#pending.reject(p, new WorkgroupException(`the call could not be sent to worker #${ws.index}: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
  }

  /** Control messages that are not about a worker's life. */
  #control(ws: WorkerSlot, m: ControlToMain): void {
    switch (m.type) {
      case 'memberReady':
        return this.#members.created(m.memberId);
      case 'memberFailed':
        return this.#members.creationFailed(ws, m.memberId, this.#decodeStandalone(m.error, ws));
      case 'memberDisposed':
        return this.#members.disposed(ws, m.memberId, m.error ? this.#decodeStandalone(m.error, ws) : undefined);
      case 'wake':
        return this.#results.ring();
      case 'sab':
        return this.codec.addWorkerBuffer(ws.slot, m.id, m.buffer);
      case 'transfer':
        return this.codec.outOfBand.receive(ws.slot, m.id, m.buffer);
    }
  }

  /**
   * Inside a decode: takes a worker's waiting control messages now (Node: receiveMessageOnPort), so that a
   * transferred buffer the frame names is there. Buffer messages apply at once; the others run right after
   * (they may decode, and a decode is in progress).
   */
  #pullControl(slot: number): undefined {
    const ws = this.#workers.bySlot(slot);
    const handle = ws?.handle;
    if (!ws || handle?.pull === undefined) return undefined;
    for (let m = handle.pull(); m !== undefined; m = handle.pull()) {
      const msg = m;
      if (msg.type === 'transfer' || msg.type === 'sab') this.#control(ws, msg);
      else queueMicrotask(() => this.#registry.onControlMessage(ws, msg));
    }
    return undefined;
  }

  #decodeStandalone(bytes: Uint8Array, ws: WorkerSlot): unknown {
    try {
      return this.codec.decode(bytes, 0, bytes.length, ws.slot);
    } catch (e) {
      return new InvalidWorkgroupResponseException(`could not decode a message of worker #${ws.index}`, { cause: e });
    }
  }
}
