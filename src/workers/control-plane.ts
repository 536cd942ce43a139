/**
 * The worker's end of the control channel (postMessage): SharedArrayBuffer introductions, transferred
 * buffers, member creation and destruction, stop. Messages arrive two ways: delivered by the event loop
 * (`host.onControl`), or pulled synchronously (Node's `receiveMessageOnPort`) when main sets the
 * CMD_CONTROL bit in the command word — so a worker busy in a loop of jobs still sees them.
 */
import { CB_COMMAND, CMD_CONTROL } from '../ring/layout.js';
import type { ControlToWorker } from '../ring/protocol.js';
import type { MemberHost } from './member-host.js';
import type { WorkerContext } from './worker-context.js';

export class ControlPlane {
  readonly #ctx: WorkerContext;
  readonly #members: MemberHost;
  /** Control messages pulled inside a decode and not applied there (see awaitBuffer). */
  readonly #deferred: ControlToWorker[] = [];

  constructor(ctx: WorkerContext, members: MemberHost) {
    this.#ctx = ctx;
    this.#members = members;
  }

  /** Applies the deferred messages, then every message waiting on the port. */
  pull(): void {
    while (this.#deferred.length > 0) this.apply(this.#deferred.shift()!);
    for (let m = this.#ctx.host.pullControl(); m; m = this.#ctx.host.pullControl()) this.apply(m);
  }

  /**
   * Inside a decode, a frame names a SharedArrayBuffer or a transferred buffer not seen yet: take the
   * waiting control messages now. Buffer messages apply at once; the others (they may decode, and a
   * decode is in progress) wait for the next turn, which the CMD_CONTROL bit asks for. Returns a promise
   * to await where messages only come through the event loop (browsers).
   */
  awaitBuffer(_id: number): Promise<unknown> | undefined {
    const ctx = this.#ctx;
    let deferred = false;
    for (let m = ctx.host.pullControl(); m; m = ctx.host.pullControl()) {
      if (m.type === 'sab' || m.type === 'transfer') this.apply(m);
      else {
        this.#deferred.push(m);
        deferred = true;
      }
    }
    if (deferred) Atomics.or(ctx.i32, ctx.control.base + CB_COMMAND, CMD_CONTROL); // (no ring: this worker reads it itself)
    if (ctx.host.syncControl) return undefined;
    return ctx.host.yieldToEventLoop();
  }

  apply(m: ControlToWorker): void {
    const ctx = this.#ctx;
    switch (m.type) {
      case 'sab':
        ctx.codec.addBuffer(m.id, m.buffer);
        break;
      case 'addMember':
        void this.#members.add(m.memberId, m.bytes);
        break;
      case 'destroyMember':
        void this.#members.destroy(m.memberId);
        break;
      case 'stop':
        ctx.stopping = true;
        ctx.wakeSelf();
        break;
      case 'transfer':
        ctx.codec.outOfBand.receive(0, m.id, m.buffer);
        break;
    }
  }
}
