/**
 * Scheduler layer 4: members (placement, invoke, destroy, notifyHost answers) and the control-plane
 * messages workers send (ready, setup failures, member lifecycle, wake, buffers).
 */
import { encodeValue } from '../codec/codec.js';
import { REC_INVOKE, REC_NOTIFY_REPLY, type ControlToMain } from '../ring/protocol.js';
import { InvalidWorkgroupResponseException, WorkgroupException, WorkgroupMemberDeadException, WorkgroupMemberNotFoundException, WorkgroupSetupException, combineStacks } from '../shared/errors.js';
import { createPending, type Pending } from './pending.js';
import { WorkerSlot } from './worker-slot.js';
import { type MemberRecord, now, abortError, describeValue } from './core-shared.js';
import { WorkgroupCoreResults } from './core-results.js';

export abstract class WorkgroupCoreMembers extends WorkgroupCoreResults {
  // ------------------------------------------------------------------ members

  async addInstance(member: unknown, isolate: number | undefined, onNotify: ((c: unknown) => unknown) | undefined): Promise<MemberRecord> {
    const refused = this.checkAccepting();
    if (refused) throw refused;
    if (typeof member !== 'object' || member === null || typeof (member as { handle?: unknown }).handle !== 'function') {
      throw new TypeError(`addInstance() expects a WorkgroupMember instance (an object with a handle() method), got ${describeValue(member)}`);
    }
    if (onNotify !== undefined && typeof onNotify !== 'function') throw new TypeError(`expected \`onNotify\` to be a function, got ${describeValue(onNotify)}`);
    let ws: WorkerSlot | undefined;
    if (isolate !== undefined && isolate !== -1) {
      const t = this.resolveIndex(isolate);
      if (t instanceof Error) throw t;
      ws = t;
      await this.preflight?.(ws);
    } else {
      // With checkBeforeDispatching, a stale pick is probed first; one that does not answer is skipped.
      const skip = new Set<WorkerSlot>();
      for (;;) {
        ws = this._placeMember(skip);
        const check = this.preflight?.(ws);
        if (!check) break;
        try {
          await check;
          break;
        } catch {
          skip.add(ws);
        }
      }
    }
    if (!ws.live) throw this.resolveIndex(ws.index); // it died while probed
    const bytes = this.encodeStandalone(member, 'member');
    const id = this._nextMemberId++;
    const rec: MemberRecord = { id, worker: ws, onNotify, invokes: new Set(), state: 'starting', deadReason: undefined };
    this._members.set(id, rec);
    ws.members.add(id);
    const done = new Promise<void>((resolve, reject) => this._memberWaiters.set(id, { resolve, reject }));
    ws.handle?.post({ type: 'addMember', memberId: id, bytes });
    ws.signalControl();
    ws.setupsInFlight++; // a worker inside a member's setup() is busy, not hung (health)
    this._updateRefs();
    try {
      await done;
    } catch (e) {
      this._members.delete(id);
      ws.members.delete(id);
      throw e;
    } finally {
      ws.setupsInFlight--;
      this._updateRefs();
    }
    rec.state = 'ready';
    return rec;
  }

  /** The live worker with the fewest members (ties: lowest index); ready and healthy ones first. */
  protected _placeMember(skip: ReadonlySet<WorkerSlot>): WorkerSlot {
    let ws: WorkerSlot | undefined;
    for (const w of this._workers.values()) {
      if (!w.live || w.state !== 'ready' || w.confirmedDead || skip.has(w) || w.index >= this._nextIndex) continue;
      if (!ws || w.members.size < ws.members.size) ws = w;
    }
    if (!ws) {
      for (const w of this._workers.values()) {
        if (!w.live || w.confirmedDead || skip.has(w) || w.index >= this._nextIndex) continue;
        if (!ws || w.members.size < ws.members.size) ws = w;
      }
    }
    if (!ws) throw new WorkgroupMemberDeadException(-1, `no live worker can take the member (live indices: ${this._liveIndices()})`);
    return ws;
  }

  /** Encodes into a fresh non-shared array (control messages). */
  encodeStandalone(value: unknown, root: string): Uint8Array {
    const w = this._codec.writer;
    try {
      w.beginScratch();
      encodeValue(w, value, this._codec.encodeHooks, root);
    } catch (e) {
      throw this._sendError(e);
    }
    return w.bytes().slice();
  }

  invoke(memberId: number, command: unknown, options: { signal?: AbortSignal; timeout?: number } | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    if (this.preflight) {
      const rec = this._members.get(memberId);
      const check = rec && rec.state === 'ready' && this.state === 'active' ? this.preflight(rec.worker) : undefined;
      if (check) return check.then(() => this._invokeNow(memberId, command, options, site)); // checkBeforeDispatching: probe a stale worker first
    }
    return this._invokeNow(memberId, command, options, site);
  }

  protected _invokeNow(memberId: number, command: unknown, options: { signal?: AbortSignal; timeout?: number } | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    const refused = this.checkAccepting();
    if (refused) return Promise.reject(refused);
    const rec = this._members.get(memberId);
    if (!rec || rec.state === 'destroying') return Promise.reject(new WorkgroupMemberNotFoundException(`member ${memberId} is not registered (destroyed or never added)`));
    if (rec.state === 'dead') return Promise.reject(rec.deadReason ?? new WorkgroupMemberDeadException(rec.worker.index, 'its worker is gone'));
    if (options?.signal?.aborted) return Promise.reject(abortError(options.signal, 'request'));
    const id = this._allocId();
    const { p, promise } = createPending(id, 'invoke', site, undefined, memberId);
    const error = this._sendTracked(p, () => this._sendToLane(rec.worker, p, REC_INVOKE, [id, memberId], command, 'command', false));
    if (error) return Promise.reject(this._sendError(error));
    rec.invokes.add(id);
    this._pending.set(id, p);
    this._armCancellation(p, options?.signal, options?.timeout, 'invoke');
    this._scheduleKick();
    return promise;
  }

  async destroyInstance(memberId: number): Promise<void> {
    const rec = this._members.get(memberId);
    if (!rec) throw new WorkgroupMemberNotFoundException(`member ${memberId} is not registered (destroyed or never added)`);
    if (rec.state === 'starting') {
      // Wait for its setup to finish first, so the worker never keeps a half-made member.
      await new Promise<void>((resolve) => {
        const w = this._memberWaiters.get(memberId);
        if (!w) return resolve();
        this._memberWaiters.set(memberId, { resolve: () => (w.resolve(), resolve()), reject: (e) => (w.reject(e), resolve()) });
      });
    }
    const aborted = new WorkgroupMemberNotFoundException(`member ${memberId} was destroyed - request cancelled`);
    for (const id of [...rec.invokes]) {
      const p = this._pending.get(id);
      if (p) this._settleErr(p, aborted, false);
    }
    this._members.delete(memberId);
    rec.worker.members.delete(memberId);
    if (rec.state === 'dead' || !rec.worker.live) return;
    rec.state = 'destroying';
    const done = new Promise<void>((resolve, reject) => this._destroyWaiters.set(memberId, { resolve, reject }));
    rec.worker.disposing.add(memberId); // settled by _onExit if the worker dies before it answers
    rec.worker.handle?.post({ type: 'destroyMember', memberId });
    rec.worker.signalControl();
    rec.worker.ref();
    try {
      await done;
    } finally {
      rec.worker.disposing.delete(memberId);
      this._updateRefs();
    }
  }

  protected async _answerNotify(ws: WorkerSlot, notifyId: number, memberId: number, command: unknown): Promise<void> {
    const rec = this._members.get(memberId);
    if (!rec?.onNotify) {
      this._replyNotify(ws, notifyId, false, new WorkgroupException(`member ${memberId} called notifyHost(), but addInstance() was given no onNotify handler: pass { onNotify: (command) => answer }`));
      return;
    }
    try {
      const answer = await rec.onNotify(command);
      this._replyNotify(ws, notifyId, true, answer);
    } catch (e) {
      this._replyNotify(ws, notifyId, false, e);
    }
  }

  protected _replyNotify(ws: WorkerSlot, notifyId: number, ok: boolean, value: unknown): void {
    if (!ws.live) return;
    try {
      this._sendToLane(ws, undefined, REC_NOTIFY_REPLY, [notifyId, ok ? 1 : 0], value, ok ? 'answer' : 'error', false);
    } catch (e) {
      this._sendToLane(ws, undefined, REC_NOTIFY_REPLY, [notifyId, 0], this._sendError(e), 'error', false);
    }
  }

  // ------------------------------------------------------------------ control plane

  protected _onControl(ws: WorkerSlot, m: ControlToMain): void {
    switch (m.type) {
      case 'ready':
        if (ws.state === 'starting') ws.state = 'ready';
        ws.lastKnownGood = ws.readyAt = Date.now();
        ws.readyWaiter?.resolve();
        ws.readyWaiter = undefined;
        this._updateRefs();
        this._kick();
        return;
      case 'setupFailed': {
        ws.state = 'failed';
        const cause = this._decodeStandalone(m.error, ws);
        const msg = cause instanceof Error ? cause.message : String(cause);
        const err = new WorkgroupSetupException(ws.index, msg, { cause });
        ws.readyWaiter?.reject(err);
        ws.readyWaiter = undefined;
        return;
      }
      case 'memberReady': {
        const w = this._memberWaiters.get(m.memberId);
        this._memberWaiters.delete(m.memberId);
        w?.resolve();
        return;
      }
      case 'memberFailed': {
        const w = this._memberWaiters.get(m.memberId);
        this._memberWaiters.delete(m.memberId);
        const error = this._decodeStandalone(m.error, ws);
        const rec = this._members.get(m.memberId);
        combineStacks(error, undefined);
        if (rec) this.errors.fire('instance', error, { isolateIndex: ws.index, memberId: m.memberId });
        w?.reject(error);
        return;
      }
      case 'memberDisposed': {
        const w = this._destroyWaiters.get(m.memberId);
        this._destroyWaiters.delete(m.memberId);
        if (m.error) {
          const error = this._decodeStandalone(m.error, ws);
          this.errors.fire('instance', error, { isolateIndex: ws.index, memberId: m.memberId });
          w?.reject(error);
        } else w?.resolve();
        return;
      }
      case 'wake':
        if (this._doorbell) this._doorbell(); // the results loop drains
        else this.drain();
        return;
      case 'sab':
        this._codec.addWorkerBuffer(ws.slot, m.id, m.buffer);
        return;
      case 'transfer':
        this._codec.outOfBand.receive(ws.slot, m.id, m.buffer);
        return;
    }
  }

  protected _decodeStandalone(bytes: Uint8Array, ws: WorkerSlot): unknown {
    try {
      return this._codec.decode(bytes, 0, bytes.length, ws.slot);
    } catch (e) {
      return new InvalidWorkgroupResponseException(`could not decode a message of worker #${ws.index}`, { cause: e });
    }
  }
}
