/**
 * The member table: members (stateful objects living in one worker), their placement, calls to them
 * (`invoke`), their creation and destruction waiters, and the answers to their `notifyHost()`.
 */
import { encodeValue } from '../codec/codec.js';
import { REC_INVOKE, REC_NOTIFY_REPLY } from '../ring/protocol.js';
import { WorkgroupException, WorkgroupMemberDeadException, WorkgroupMemberNotFoundException, combineStacks } from '../shared/errors.js';
import type { Cancellation } from './cancellation.js';
import { checkTimeout } from './cancellation.js';
import type { ErrorRouter } from './error-router.js';
import type { KeepAlive } from './keep-alive.js';
import type { MainCodec } from './main-codec.js';
import type { Pending, PendingTable } from './pending.js';
import { type ControlWaiter, type InvokeOptions, type MemberRecord, abortError, describeValue, sendError } from './types.js';
import type { WorkerSet } from './worker-set.js';
import type { WorkerSlot } from './worker-slot.js';
import { waitWithin } from '../shared/deadline.js';

/** What the member table needs from the rest of the core. */
export interface MemberHost {
  /** The error new work is refused with (shut down, not launched, no worker), if any. */
  refusal(): Error | undefined;
  /** Validates an explicit worker index; the worker or the error. */
  resolveIndex(index: number): WorkerSlot | Error;
  /** With `checkBeforeDispatching`: a probe of a stale worker to await first (rejects when it does not answer). */
  preflight(ws: WorkerSlot): Promise<void> | undefined;
  /** Encode-and-send keeping the frame's out-of-band blocks with `p`; returns what the encode threw. */
  sendTracked(p: Pending, send: () => void): unknown;
  /** Once per tick after sends (wake-ups, results loop). */
  scheduleKick(): void;
}

export class MemberTable {
  readonly #records = new Map<number, MemberRecord>();
  readonly #creating = new Map<number, ControlWaiter>();
  readonly #destroying = new Map<number, ControlWaiter>();
  #nextId = 1;
  readonly #pending: PendingTable;
  readonly #workers: WorkerSet;
  readonly #codec: MainCodec;
  readonly #errors: ErrorRouter;
  readonly #keepAlive: KeepAlive;
  readonly #cancellation: Cancellation;
  readonly #host: MemberHost;

  constructor(
    parts: { pending: PendingTable; workers: WorkerSet; codec: MainCodec; errors: ErrorRouter; keepAlive: KeepAlive; cancellation: Cancellation },
    host: MemberHost,
  ) {
    this.#pending = parts.pending;
    this.#workers = parts.workers;
    this.#codec = parts.codec;
    this.#errors = parts.errors;
    this.#keepAlive = parts.keepAlive;
    this.#cancellation = parts.cancellation;
    this.#host = host;
  }

  /** Members starting or ready. */
  get count(): number {
    let n = 0;
    for (const m of this.#records.values()) if (m.state === 'starting' || m.state === 'ready') n++;
    return n;
  }

  get(id: number): MemberRecord | undefined {
    return this.#records.get(id);
  }

  async add(member: unknown, isolate: number | undefined, onNotify: ((c: unknown) => unknown) | undefined): Promise<MemberRecord> {
    const refused = this.#host.refusal();
    if (refused) throw refused;
    if (typeof member !== 'object' || member === null || typeof (member as { handle?: unknown }).handle !== 'function') {
      throw new TypeError(`addInstance() expects a WorkgroupMember instance (an object with a handle() method), got ${describeValue(member)}`);
    }
    if (onNotify !== undefined && typeof onNotify !== 'function') throw new TypeError(`expected \`onNotify\` to be a function, got ${describeValue(onNotify)}`);
    const release = this.#keepAlive.hold();
    try {
      const ws = await this.#place(isolate);
      const bytes = this.encodeStandalone(member, 'member');
      const id = this.#nextId++;
      const rec: MemberRecord = { id, worker: ws, onNotify, invokes: new Set(), state: 'starting', deadReason: undefined };
      this.#records.set(id, rec);
      ws.members.add(id);
      const done = new Promise<void>((resolve, reject) => this.#creating.set(id, { resolve, reject }));
      ws.handle?.post({ type: 'addMember', memberId: id, bytes });
      ws.signalControl();
      ws.setupsInFlight++; // a worker inside a member's setup() is busy, not hung (health)
      try {
        await done;
      } catch (e) {
        this.#records.delete(id);
        ws.members.delete(id);
        throw e;
      } finally {
        ws.setupsInFlight--;
      }
      rec.state = 'ready';
      return rec;
    } finally {
      release();
    }
  }

  /** The worker for a new member: the one asked for, or the live one with the fewest members. */
  async #place(isolate: number | undefined): Promise<WorkerSlot> {
    let ws: WorkerSlot;
    if (isolate !== undefined) {
      const t = this.#host.resolveIndex(isolate);
      if (t instanceof Error) throw t;
      ws = t;
      await this.#host.preflight(ws);
    } else {
      // With checkBeforeDispatching, a stale pick is probed first; one that does not answer is skipped.
      const skip = new Set<WorkerSlot>();
      for (;;) {
        ws = this.#fewestMembers(skip);
        const check = this.#host.preflight(ws);
        if (!check) break;
        try {
          await check;
          break;
        } catch {
          skip.add(ws);
        }
      }
    }
    if (!ws.live) {
      const why = this.#host.resolveIndex(ws.index);
      throw why instanceof Error ? why : new WorkgroupMemberDeadException(ws.index, 'it is gone');
    }
    return ws;
  }

  /** The live worker with the fewest members (ties: lowest index); ready and healthy ones first. */
  #fewestMembers(skip: ReadonlySet<WorkerSlot>): WorkerSlot {
    const next = this.#workers.nextIndex;
    let ws: WorkerSlot | undefined;
    for (const w of this.#workers.values()) {
      if (!w.live || w.state !== 'ready' || w.confirmedDead || skip.has(w) || w.index >= next) continue;
      if (!ws || w.members.size < ws.members.size) ws = w;
    }
    if (!ws) {
      for (const w of this.#workers.values()) {
        if (!w.live || w.confirmedDead || skip.has(w) || w.index >= next) continue;
        if (!ws || w.members.size < ws.members.size) ws = w;
      }
    }
    if (!ws) throw new WorkgroupMemberDeadException(-1, `no live worker can take the member (live indices: ${this.#workers.liveIndices()})`);
    return ws;
  }

  /** Encodes into a fresh non-shared array (control messages). */
  encodeStandalone(value: unknown, root: string): Uint8Array {
    const w = this.#codec.writer;
    try {
      w.beginScratch();
      encodeValue(w, value, this.#codec.encodeHooks, root);
    } catch (e) {
      throw sendError(e);
    }
    return w.bytes().slice();
  }

  invoke(memberId: number, command: unknown, options: InvokeOptions | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    const rec = this.#records.get(memberId);
    if (rec && rec.state === 'ready') {
      const check = this.#host.refusal() ? undefined : this.#host.preflight(rec.worker);
      // checkBeforeDispatching: probe a stale worker first (the call's timeout and signal hold meanwhile)
      if (check) return waitWithin(check, options, 'invoke', 'request').then((o) => this.#invokeNow(memberId, command, o, site));
    }
    return this.#invokeNow(memberId, command, options, site);
  }

  #invokeNow(memberId: number, command: unknown, options: InvokeOptions | undefined, site: { stack?: string } | undefined): Promise<unknown> {
    const refused = this.#host.refusal();
    if (refused) return Promise.reject(refused);
    const rec = this.#records.get(memberId);
    if (!rec || rec.state === 'destroying') return Promise.reject(new WorkgroupMemberNotFoundException(`member ${memberId} is not registered (destroyed or never added)`));
    if (rec.state === 'dead') return Promise.reject(rec.deadReason ?? new WorkgroupMemberDeadException(rec.worker.index, 'its worker is gone'));
    if (options?.signal?.aborted) return Promise.reject(abortError(options.signal, 'request'));
    const badTimeout = checkTimeout(options?.timeout);
    if (badTimeout) return Promise.reject(badTimeout);
    const p = this.#pending.create('invoke', site, undefined, memberId);
    const promise = p.promise!;
    const error = this.#host.sendTracked(p, () => rec.worker.writer!.send(p, REC_INVOKE, [p.id, memberId], command, 'command', false));
    if (error) return Promise.reject(sendError(error));
    rec.invokes.add(p.id);
    this.#pending.add(p);
    this.#cancellation.arm(p, options?.signal, options?.timeout, 'invoke');
    this.#host.scheduleKick();
    return promise;
  }

  async destroy(memberId: number): Promise<void> {
    const rec = this.#records.get(memberId);
    if (!rec || rec.state === 'destroying') throw new WorkgroupMemberNotFoundException(`member ${memberId} is not registered (destroyed or never added)`);
    const release = this.#keepAlive.hold();
    try {
      if (rec.state === 'starting') {
        // Wait for its setup to finish first, so the worker never keeps a half-made member.
        await new Promise<void>((resolve) => {
          const w = this.#creating.get(memberId);
          if (!w) return resolve();
          this.#creating.set(memberId, { resolve: () => (w.resolve(), resolve()), reject: (e) => (w.reject(e), resolve()) });
        });
      }
      if (this.#records.get(memberId) !== rec) return; // destroyed meanwhile by another call, or its worker died
      const aborted = new WorkgroupMemberNotFoundException(`member ${memberId} was destroyed - request cancelled`);
      for (const id of [...rec.invokes]) {
        const p = this.#pending.get(id);
        if (p) this.#abandon(p, aborted);
      }
      rec.worker.members.delete(memberId);
      if (rec.state === 'dead' || !rec.worker.live) {
        this.#records.delete(memberId);
        return;
      }
      // Kept (as destroying: no new calls) until dispose() ran, so a dispose() that calls notifyHost() is answered.
      rec.state = 'destroying';
      const done = new Promise<void>((resolve, reject) => this.#destroying.set(memberId, { resolve, reject }));
      rec.worker.disposing.add(memberId); // settled by the exit script if the worker dies before it answers
      rec.worker.handle?.post({ type: 'destroyMember', memberId });
      rec.worker.signalControl();
      try {
        await done;
      } finally {
        rec.worker.disposing.delete(memberId);
        this.#records.delete(memberId);
      }
    } finally {
      release();
    }
  }

  /**
   * Rejects a call of a member being destroyed. Not sent yet: taken back. Sent: rejected now and kept until
   * the worker answers (its frame's payload blocks stay valid meanwhile), skipped if it has not started.
   * A running call is not interrupted: `dispose()` runs after it.
   */
  #abandon(p: Pending, error: Error): void {
    if (p.worker?.writer?.unsend(p.id)) {
      this.#pending.reject(p, error);
      return;
    }
    if (this.#pending.rejectHeld(p, error)) p.worker?.skipLaneWork(p.id);
  }

  /** A member called `notifyHost(command)`: its `onNotify` answers (held alive until the answer is sent). */
  notify(ws: WorkerSlot, notifyId: number, memberId: number, command: unknown, failed: boolean): void {
    if (failed) return this.#reply(ws, notifyId, false, command);
    const rec = this.#records.get(memberId);
    if (!rec?.onNotify) {
      this.#reply(ws, notifyId, false, new WorkgroupException(`member ${memberId} called notifyHost(), but addInstance() was given no onNotify handler: pass { onNotify: (command) => answer }`));
      return;
    }
    const onNotify = rec.onNotify;
    void this.#keepAlive.during(async () => {
      try {
        const answer = await onNotify(command);
        this.#reply(ws, notifyId, true, answer);
      } catch (e) {
        this.#reply(ws, notifyId, false, e);
      }
    });
  }

  #reply(ws: WorkerSlot, notifyId: number, ok: boolean, value: unknown): void {
    if (ws.exited || !ws.writer) return; // (a stopping worker may await it in a member's dispose())
    try {
      ws.writer.send(undefined, REC_NOTIFY_REPLY, [notifyId, ok ? 1 : 0], value, ok ? 'answer' : 'error', false);
    } catch (e) {
      ws.writer.send(undefined, REC_NOTIFY_REPLY, [notifyId, 0], sendError(e), 'error', false);
    }
  }

  /** A notify answer that could not be placed (shared memory full): the member gets an error instead. */
  replyUnplaceable(ws: WorkerSlot, notifyId: number, error: unknown): void {
    this.#reply(ws, notifyId, false, new WorkgroupException(`the answer to notifyHost() could not be sent: ${(error as Error)?.message ?? String(error)}`));
  }

  // ------------------------------------------------------------------ control messages

  created(memberId: number): void {
    const w = this.#creating.get(memberId);
    this.#creating.delete(memberId);
    w?.resolve();
  }

  creationFailed(ws: WorkerSlot, memberId: number, error: unknown): void {
    const w = this.#creating.get(memberId);
    this.#creating.delete(memberId);
    combineStacks(error, undefined);
    if (this.#records.has(memberId)) this.#errors.fire('instance', error, { isolateIndex: ws.index, memberId });
    w?.reject(error);
  }

  disposed(ws: WorkerSlot, memberId: number, error: unknown): void {
    const w = this.#destroying.get(memberId);
    this.#destroying.delete(memberId);
    if (error !== undefined) {
      this.#errors.fire('instance', error, { isolateIndex: ws.index, memberId });
      w?.reject(error);
    } else w?.resolve();
  }

  /** Step 4 of a worker's exit script: its members are dead (or gone, when killed), their waiters settle. */
  workerGone(ws: WorkerSlot, reason: (what: 'request' | 'instance creation') => Error): void {
    for (const memberId of ws.disposing) {
      const d = this.#destroying.get(memberId);
      this.#destroying.delete(memberId);
      d?.resolve();
    }
    for (const memberId of ws.members) {
      const rec = this.#records.get(memberId);
      if (!rec) continue;
      const waiter = this.#creating.get(memberId);
      if (waiter) {
        this.#creating.delete(memberId);
        waiter.reject(reason('instance creation'));
        this.#records.delete(memberId);
        continue;
      }
      if (ws.killed) this.#records.delete(memberId);
      else {
        rec.state = 'dead';
        rec.deadReason = reason('request');
      }
      const d = this.#destroying.get(memberId);
      if (d) {
        this.#destroying.delete(memberId);
        d.resolve();
      }
    }
    ws.members.clear();
  }

  /** Shutdown: creations waiting are rejected; destructions waiting resolve once the workers are gone. */
  rejectCreations(error: (what: string) => Error): void {
    for (const [id, w] of [...this.#creating]) {
      this.#creating.delete(id);
      w.reject(error('instance creation'));
    }
  }

  resolveDestructions(): void {
    for (const [id, w] of [...this.#destroying]) {
      this.#destroying.delete(id);
      w.resolve();
    }
  }

  /** Step of the pending table's release: a settled invoke leaves its member's list. */
  forgetInvoke(memberId: number, id: number): void {
    this.#records.get(memberId)?.invokes.delete(id);
  }
}
