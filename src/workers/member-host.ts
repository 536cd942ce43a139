/**
 * The members living in this worker: created and destroyed through control messages (addInstance,
 * destroyInstance, shutdown), called through the direct ring (REC_INVOKE, run by the Executor), and
 * calling back with `notifyHost(command)`: a REC_NOTIFY record out, a REC_NOTIFY_REPLY record back,
 * matched by id.
 */
import { bindRuntime, unbindRuntime } from '../shared/job.js';
import { REC_NOTIFY } from '../ring/protocol.js';
import type { ResultWriter } from './result-writer.js';
import { Running, type RunServices } from './running.js';
import type { WorkerContext } from './worker-context.js';

export interface MemberEntry {
  readonly instance: {
    setup?(): unknown;
    handle(command: unknown): unknown;
    dispose?(): unknown;
  };
  /** Buffers the member's `transfer()` marked for its call results. */
  readonly transfers: Set<ArrayBuffer>;
}

interface NotifyWaiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class MemberHost {
  readonly #ctx: WorkerContext;
  readonly #writer: ResultWriter;
  readonly #members = new Map<number, MemberEntry>();
  readonly #notifies = new Map<number, NotifyWaiter>();
  #nextNotify = 1;

  readonly #services: RunServices;

  constructor(ctx: WorkerContext, writer: ResultWriter, services: RunServices) {
    this.#ctx = ctx;
    this.#writer = writer;
    this.#services = services;
  }

  get(memberId: number): MemberEntry | undefined {
    return this.#members.get(memberId);
  }

  /** addInstance: decodes the member, binds its runtime, runs `setup()`, then tells main. */
  add(memberId: number, bytes: Uint8Array): Promise<void> {
    return this.#ctx.track(this.#add(memberId, bytes));
  }

  async #add(memberId: number, bytes: Uint8Array): Promise<void> {
    const ctx = this.#ctx;
    try {
      const instance = (await ctx.codec.decodeAsync(bytes)) as MemberEntry['instance'];
      if (instance === null || typeof instance !== 'object' || typeof instance.handle !== 'function') {
        throw new TypeError('the member has no handle() method: extend WorkgroupMember');
      }
      const runtime = new Running(this.#services, 0, -1, memberId);
      runtime.transfers = new Set<ArrayBuffer>();
      bindRuntime(instance, runtime);
      this.#members.set(memberId, { instance, transfers: runtime.transfers });
      if (typeof instance.setup === 'function') await instance.setup();
      ctx.host.post({ type: 'memberReady', memberId });
    } catch (error) {
      this.#members.delete(memberId);
      ctx.host.post({ type: 'memberFailed', memberId, error: ctx.codec.encodeStandalone(error, 'error') });
    }
  }

  /** destroyInstance: runs `dispose()` and tells main (with its error, if it threw). */
  async destroy(memberId: number): Promise<void> {
    const ctx = this.#ctx;
    const entry = this.#members.get(memberId);
    this.#members.delete(memberId);
    let error: Uint8Array | undefined;
    if (entry && typeof entry.instance.dispose === 'function') {
      try {
        await ctx.track(entry.instance.dispose());
      } catch (e) {
        error = ctx.codec.encodeStandalone(e, 'error');
      }
    }
    if (entry) unbindRuntime(entry.instance);
    ctx.host.post(error ? { type: 'memberDisposed', memberId, error } : { type: 'memberDisposed', memberId });
  }

  /** At the end of the loop: disposes every member, one after the other. */
  async disposeAll(): Promise<void> {
    for (const id of [...this.#members.keys()]) await this.destroy(id);
  }

  /** `notifyHost(command)` of a member (or of a job, member id 0): resolves with main's answer. */
  notifyHost(command: unknown, memberId: number): Promise<unknown> {
    const ctx = this.#ctx;
    const id = this.#nextNotify++;
    return ctx.track(
      new Promise((resolve, reject) => {
        try {
          this.#writer.write(REC_NOTIFY, [id, memberId], command, 'command');
        } catch (e) {
          reject(e);
          return;
        }
        this.#notifies.set(id, { resolve, reject });
        this.#writer.flush();
        // Main may have nothing outstanding (its results loop stopped) and read this ring only with a later
        // job: a control message makes it drain now. A notification is rare; the message is cheap enough.
        ctx.host.post({ type: 'wake' });
      }),
    );
  }

  /** A REC_NOTIFY_REPLY record: main's answer (`ok`) or error for notify `id`, encoded in `u8[start..end)`. */
  answerNotify(id: number, ok: boolean, u8: Uint8Array, start: number, end: number): void {
    const waiter = this.#notifies.get(id);
    if (!waiter) return;
    this.#notifies.delete(id);
    let value: unknown;
    try {
      value = this.#ctx.codec.decode(u8, start, end);
    } catch (e) {
      waiter.reject(e);
      return;
    }
    if (ok) waiter.resolve(value);
    else waiter.reject(value);
  }
}
