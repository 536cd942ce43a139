/**
 * Scheduler layer 5 (the class the api uses): failures and resizing — index validation, addIsolate,
 * kill, worker exits (deliver what it published, repair the queue, reject what it held), respawn.
 */
import { CELL_INLINE_MAX } from '../ring/job-queue.js';
import { POOL_IDLE_MASK_I32, STATE_SPINNING, POOL_SPINNERS_I32 } from '../ring/layout.js';
import { WorkgroupException, WorkgroupInactiveException, WorkgroupJobAbortedException, WorkgroupMemberDeadException, WorkgroupNotReadyException, WorkgroupSetupException } from '../shared/errors.js';
import type { Pending } from './pending.js';
import { EARLY_DEATH_MS, RESPAWN_LIMIT, type DeathFacts } from './respawn.js';
import { WorkerSlot } from './worker-slot.js';
import { now, describeExit } from './core-shared.js';
import { WorkgroupCoreMembers } from './core-members.js';

export { describeValue, type DispatchOptions, type MemberRecord, type WorkgroupState } from './core-shared.js';

export class WorkgroupCore extends WorkgroupCoreMembers {
  // ------------------------------------------------------------------ failures and resizing

  /** Validates a worker index for dispatch/addInstance/kill; returns the worker or the error. */
  resolveIndex(index: number): WorkerSlot | WorkgroupException {
    if (!Number.isInteger(index) || index < 0 || index >= this._nextIndex) {
      const range = this._nextIndex === 0 ? 'There are no workers yet' : `Valid indices are 0...${this._nextIndex - 1}`;
      return new WorkgroupException(`Invalid isolate index ${String(index)}. ${range}`);
    }
    const ws = this._workers.get(index);
    if (ws?.confirmedDead) {
      return new WorkgroupMemberDeadException(index, `it failed ${ws.consecutiveFailures} health probes in a row and is replaced: use another index (live indices: ${this._liveIndices()})`);
    }
    if (!ws || !ws.live) {
      return new WorkgroupException(`Isolate at index ${index} does not exist or has already been removed (live indices: ${this._liveIndices()})`);
    }
    return ws;
  }

  protected _liveIndices(): string {
    const live: number[] = [];
    for (const w of this._workers.values()) if (w.live && w.index < this._nextIndex) live.push(w.index);
    return live.join(', ') || 'none';
  }

  /** Why a resize (addIsolate/kill) cannot run now, if it cannot. */
  protected _refuseResize(what: string): WorkgroupException | undefined {
    if (this.state === 'disposed') return new WorkgroupInactiveException(`Cannot ${what} - workgroup has been shut down`);
    if (!this._launched) return new WorkgroupNotReadyException(`Cannot ${what} - workgroup is not active: call launch() first`);
    return undefined;
  }

  /** Starts a new worker at index `isolatesCount`; resolves with the index once its setup ran. */
  addIsolate(label: string | undefined): Promise<number> {
    const refused = this._refuseResize('add isolate');
    if (refused) return Promise.reject(refused);
    this._respawn.reset(); // the user adds a worker on purpose: replacing crashed ones may resume
    return this._enqueueAdd(label);
  }

  protected _enqueueAdd(label: string | undefined): Promise<number> {
    const run = this._addChain.then(() => this._addOne(label));
    this._addChain = run.catch(() => undefined);
    return run;
  }

  protected async _addOne(label: string | undefined): Promise<number> {
    const refused = this._refuseResize('add isolate');
    if (refused) throw refused;
    // Reserved, not yet counted: no other add runs now, and isolatesCount rises only when the worker is ready.
    const index = this._nextIndex;
    try {
      await this._startWorker(index, label);
    } catch (e) {
      // Roll back: no thread, no state, no index consumed.
      const ws = this._workers.get(index);
      if (ws) {
        await ws.handle?.terminate();
        await ws.exitedPromise;
        this._workers.delete(index);
      }
      throw e;
    }
    this._nextIndex = index + 1;
    this._noWorkers = undefined; // a launch that started no worker is usable again
    this._updateRefs();
    return index;
  }

  /** Removes worker `index` for good: its running work is rejected, queued jobs stay for the others. */
  async kill(index: number): Promise<void> {
    const refused = this._refuseResize('kill isolate');
    if (refused) throw refused;
    const t = this.resolveIndex(index);
    if (t instanceof Error) throw t;
    t.killed = true;
    t.state = 'stopping';
    t.handle?.ref();
    await t.handle?.terminate();
    await t.exitedPromise;
  }

  /** Terminates a worker the workgroup gave up on (unresponsive); _onExit rejects its work with `reason` and replaces it. */
  retire(ws: WorkerSlot, reason: string): void {
    if (ws.exited) return;
    ws.exitReason = reason;
    ws.replaceOnExit = true;
    ws.state = 'stopping';
    ws.handle?.ref();
    void ws.handle?.terminate();
  }

  /**
   * A worker's thread exited (crash, process.exit, out of memory, kill, terminate from outside, shutdown).
   * Order matters: deliver what it published, give the queue cells it claimed but never started back,
   * reject what it held, then free its slot. Runs once per worker (the platform reports exit once).
   */
  protected _onExit(ws: WorkerSlot, code: number | undefined, error: unknown): void {
    const serving = ws.readyAt > 0 && ws.index < this._nextIndex;
    // A crash is a death nobody asked for; kill(), shutdown, replacements and failed setups are reported elsewhere.
    const crashed = serving && !ws.killed && !ws.replaceOnExit && this.state !== 'disposed' && ws.state !== 'stopping' && ws.state !== 'failed';
    ws.state = ws.state === 'failed' ? 'failed' : 'dead';
    const i32 = this._i32;
    // A worker that died while spinning still holds a spinning place: give it back.
    if (ws.sharedState() === STATE_SPINNING && Atomics.load(i32, POOL_SPINNERS_I32) > 0) Atomics.sub(i32, POOL_SPINNERS_I32, 1);
    ws.markDeadInSharedMemory();
    Atomics.and(i32, POOL_IDLE_MASK_I32 + (ws.slot >> 5), ~(1 << (ws.slot & 31)));
    // 1. Everything it published is still valid: deliver it.
    try {
      this._drainWorker(ws);
    } catch {
      // a corrupt ring from a dying worker: what is left is rejected below
    }
    // 2. Work it held: what it started (running words) and what was sent to its lane.
    const index = ws.index;
    const why = ws.exitReason ?? `the worker ${describeExit(code, error)}`;
    const cause = error ? { cause: error } : undefined;
    const reason = (what: 'job' | 'request' | 'instance creation'): Error =>
      ws.killed
        ? new WorkgroupJobAbortedException(`Isolate #${index} was killed - ${what} cancelled`)
        : new WorkgroupMemberDeadException(index, `${why} - ${what} cancelled`, cause);
    const running = ws.runningIds();
    const held = new Set<number>([...running, ...ws.laneWork]);
    const facts = { readyAt: ws.readyAt, now: Date.now(), finished: ws.finishedCount(), running: running.length };
    // 3. Shared queue: cells it claimed but never started go back to the queue.
    if (this._queue) this._repairQueue(ws, held);
    for (const id of held) {
      const p = this._pending.get(id);
      if (p) this._settleErr(p, reason(p.kind === 'job' ? 'job' : 'request'), false);
    }
    // 4. Its members (and members whose dispose() it had not answered: destroyInstance resolves, they are gone).
    for (const memberId of ws.disposing) {
      const d = this._destroyWaiters.get(memberId);
      this._destroyWaiters.delete(memberId);
      d?.resolve();
    }
    for (const memberId of ws.members) {
      const rec = this._members.get(memberId);
      if (!rec) continue;
      const waiter = this._memberWaiters.get(memberId);
      if (waiter) {
        this._memberWaiters.delete(memberId);
        waiter.reject(reason('instance creation'));
        this._members.delete(memberId);
        continue;
      }
      if (ws.killed) this._members.delete(memberId);
      else {
        rec.state = 'dead';
        rec.deadReason = reason('request');
      }
      const d = this._destroyWaiters.get(memberId);
      if (d) {
        this._destroyWaiters.delete(memberId);
        d.resolve();
      }
    }
    ws.members.clear();
    ws.backlog.length = 0;
    ws.readyWaiter?.reject(
      ws.killed
        ? new WorkgroupSetupException(index, 'it was killed before it was ready')
        : new WorkgroupSetupException(index, `${why} before it was ready`, cause),
    );
    ws.readyWaiter = undefined;
    // 5. Its arena blocks, its shared words, its slot.
    try {
      this._arena?.reclaimOwner(ws.slot + 1);
      this._codec?.forgetWorker(ws.slot);
    } catch (e) {
      this.config.logger.warn?.(`isolate-workgroup: could not reclaim the arena blocks of worker #${index}`, e);
    }
    if (this._i32) ws.resetControlBlock();
    this._bySlot[ws.slot] = undefined;
    ws.markExited();
    // 6. Report a crash once, and replace the worker.
    if (crashed) this.errors.fire('communication', new WorkgroupMemberDeadException(index, why, cause), { isolateIndex: index });
    if ((crashed || (ws.replaceOnExit && serving)) && this.config.respawn && this.state === 'active') this._scheduleRespawn(index, facts);
    this._updateRefs();
    this._notifySettled();
  }

  /** Gives the queue cells a dead worker claimed but never started back to the front of the queue. */
  protected _repairQueue(dead: WorkerSlot, held: ReadonlySet<number>): void {
    const q = this._queue;
    const requeue: Pending[] = [];
    // Every thread still running may hold a claim (also one being killed): read after dequeuePos (see repairStuck).
    const intents = (): Set<number> => {
      const live = new Set<number>();
      for (const w of this._workers.values()) if (w !== dead && !w.exited) live.add(w.claimIntent());
      return live;
    };
    q.repairStuck(intents, (pos) => {
      const id = this._queueIds[pos & (q.capacity - 1)]!;
      const p = this._pending.get(id);
      if (!p || held.has(id)) return; // settled already, or it started: rejected by the caller
      if (p.cancelled) {
        this._forget(p); // cancelled while the dead worker held the cell: never run it
        return;
      }
      const off = q.cellPayloadOffset(pos);
      if (!p.arena) p.bytes = q.u8.slice(off, off + Math.min(CELL_INLINE_MAX, this._cellLength(pos)));
      else {
        p.bytes = this._arena.viewOf(p.arena, this._cellLength(pos)).slice();
        this._arena.free(p.arena);
        p.arena = undefined;
      }
      p.queuePos = -1;
      requeue.push(p);
    });
    if (requeue.length > 0) {
      this._backlog.splice(this._backlogHead, 0, ...requeue);
      this._refill();
      this._scheduleKick();
    }
  }

  /** Replaces a crashed worker (new index), backing off and then stopping when replacements die at start-up. */
  protected _scheduleRespawn(index: number, facts: DeathFacts): void {
    const decision = this._respawn.onDeath(facts);
    if (decision.kind === 'give-up') {
      if (decision.earlyDeaths === RESPAWN_LIMIT) {
        this.errors.fire(
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
    const go = (): void => {
      if (this.state !== 'active') return;
      this._enqueueAdd(undefined).catch((e: unknown) => {
        if (this.state === 'active') this.errors.fire('initialization', e, { isolateIndex: -1 });
      });
    };
    if (decision.delayMs === 0) go();
    else this.platform.unrefTimer(setTimeout(go, decision.delayMs));
  }

  protected _cellLength(pos: number): number {
    const i32off = (this._queue.cellPayloadOffset(pos) - 32) / 4;
    return this._i32[i32off + 2]!;
  }

  /** Health supervision tick (runs with the results loop). */
  protected _supervise(): void {
    this.onTick?.();
  }

  onTick: (() => void) | undefined;
}
