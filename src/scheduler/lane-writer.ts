/**
 * The main → worker half of one worker's lane: the direct ring (pinned jobs, member calls, answers to
 * `notifyHost`), a backlog for records that find the ring full, and jobs that transfer buffers. One per
 * worker; the only writer of that worker's direct ring.
 *
 * A record too big for the ring goes through the arena as a spill record. When the arena is full, the
 * record is never thrown out of the results loop: `onUnplaceable` rejects the call it belongs to.
 */
import { encodeValue } from '../codec/codec.js';
import type { Arena } from '../memory/arena.js';
import { REC_JOB, REC_SPILL } from '../ring/protocol.js';
import { LANE_JOB_HEAD, R_TIME, SPILL_BYTES, writeF64, writeWords } from '../ring/records.js';
import type { MainCodec } from './main-codec.js';
import { detachUnsent } from './payloads.js';
import type { Pending } from './pending.js';
import { now } from './types.js';
import type { WorkerSlot } from './worker-slot.js';

/** A record waiting for room in the direct ring; `id` is the call it belongs to (0: a notify answer). */
export interface LaneItem {
  readonly id: number;
  readonly type: number;
  readonly bytes: Uint8Array; // header words + encoded value
}

export class LaneWriter {
  readonly #ws: WorkerSlot;
  readonly #codec: MainCodec;
  readonly #arena: Arena;
  readonly #backlog: LaneItem[] = [];
  /** A backlog record that cannot be placed (shared memory full): the owner rejects its call. */
  readonly #onUnplaceable: (item: LaneItem, error: unknown) => void;
  /** The record `send` is placing now: if it cannot be placed, `send` throws instead (not in the table yet). */
  #sending: LaneItem | undefined;
  #sendFailure: unknown;

  constructor(ws: WorkerSlot, codec: MainCodec, arena: Arena, onUnplaceable: (item: LaneItem, error: unknown) => void) {
    this.#ws = ws;
    this.#codec = codec;
    this.#arena = arena;
    this.#onUnplaceable = onUnplaceable;
  }

  /** Records waiting for room in the ring. */
  get backlogLength(): number {
    return this.#backlog.length;
  }

  /**
   * Writes a record: header `words`, the enqueue time for jobs (`withTime`), and the encoded `value`.
   * Throws what the encode throws (nothing is sent then). A full ring keeps the record in the backlog.
   */
  send(p: Pending | undefined, type: number, words: readonly number[], value: unknown, root: string, withTime: boolean): void {
    const ws = this.#ws;
    const ring = ws.direct;
    const codec = this.#codec;
    const w = codec.writer;
    const head = withTime ? LANE_JOB_HEAD : words.length * 4;
    if (this.#backlog.length === 0) {
      const off = ring.reserveFlexible(head + 32);
      if (off >= 0) {
        w.begin(ring.u8, off + head, off + ring.limit);
        encodeValue(w, value, codec.encodeHooks, root);
        if (!w.spilled) {
          writeHead(ring.u8, off, words, withTime);
          ring.commit(type, head + w.length);
          ring.publish();
          if (p) this.#placed(p);
          ws.wake();
          return;
        }
      } else {
        w.beginScratch();
        encodeValue(w, value, codec.encodeHooks, root);
      }
    } else {
      w.beginScratch();
      encodeValue(w, value, codec.encodeHooks, root);
    }
    const body = w.bytes();
    const bytes = new Uint8Array(head + body.length);
    writeHead(bytes, 0, words, withTime);
    bytes.set(body, head);
    if (p) this.#placed(p);
    this.#pushAndFlush({ id: p?.id ?? 0, type, bytes }, p);
  }

  /** Queues `item` and flushes; throws (and takes `p` back) when `item` itself cannot be placed. */
  #pushAndFlush(item: LaneItem, p: Pending | undefined): void {
    this.#backlog.push(item);
    this.#sending = item;
    this.#sendFailure = undefined;
    try {
      this.flush();
    } finally {
      this.#sending = undefined;
    }
    if (this.#sendFailure !== undefined) {
      const error = this.#sendFailure;
      this.#sendFailure = undefined;
      if (p) this.#ws.laneWork.delete(p.id);
      throw error;
    }
  }

  /**
   * A job with `transfer`: encoded aside, its transferred buffers posted to the worker's control port
   * (which detaches them) before the frame that names them is published through the lane.
   */
  sendWithTransfer(p: Pending, job: unknown, transfer: ReadonlySet<ArrayBuffer>): void {
    const ws = this.#ws;
    const codec = this.#codec;
    const w = codec.writer;
    codec.encodeHooks.transfer = transfer;
    try {
      w.beginScratch();
      encodeValue(w, job, codec.encodeHooks, 'job');
    } finally {
      codec.encodeHooks.transfer = undefined;
    }
    const body = w.bytes();
    const bytes = new Uint8Array(LANE_JOB_HEAD + body.length);
    writeHead(bytes, 0, [p.id, 0], true);
    bytes.set(body, LANE_JOB_HEAD);
    const moved = codec.outOfBand.takeTransfers() ?? [];
    for (const t of moved) ws.handle?.post({ type: 'transfer', id: t.id, buffer: t.buffer }, [t.buffer]);
    detachUnsent(transfer, new Set(moved.map((t) => t.buffer)));
    this.#placed(p);
    this.#pushAndFlush({ id: p.id, type: REC_JOB, bytes }, p);
  }

  #placed(p: Pending): void {
    p.status = 'lane';
    p.worker = this.#ws;
    this.#ws.laneWork.add(p.id);
  }

  /** Sends backlog records while the ring has room (big ones through the arena). */
  flush(): void {
    const ws = this.#ws;
    const ring = ws.direct;
    let sent = false;
    while (this.#backlog.length > 0) {
      const item = this.#backlog[0]!;
      if (item.bytes.length <= ring.maxPayload) {
        if (!ring.tryWrite(item.type, item.bytes)) break;
      } else {
        let handle;
        try {
          handle = this.#arena.alloc(item.bytes.length);
        } catch (error) {
          this.#backlog.shift();
          if (item === this.#sending) this.#sendFailure = error;
          else this.#onUnplaceable(item, error);
          continue;
        }
        this.#arena.viewOf(handle, item.bytes.length).set(item.bytes);
        const spill = new Uint8Array(SPILL_BYTES);
        writeWords(spill, 0, [item.type, handle.offset, handle.generation, item.bytes.length]);
        if (!ring.tryWrite(REC_SPILL, spill)) {
          this.#arena.free(handle);
          break;
        }
      }
      this.#backlog.shift();
      sent = true;
    }
    if (sent) ws.wake();
  }

  /** Removes the record of call `id` if it still waits in the backlog (never sent): true when it did. */
  unsend(id: number): boolean {
    const i = this.#backlog.findIndex((item) => item.id === id);
    if (i < 0) return false;
    this.#backlog.splice(i, 1);
    return true;
  }

  /** Drops the backlog (the worker is gone). */
  clear(): void {
    this.#backlog.length = 0;
  }
}

function writeHead(u8: Uint8Array, off: number, words: readonly number[], withTime: boolean): void {
  writeWords(u8, off, words);
  if (withTime) writeF64(u8, off + R_TIME, now());
}
