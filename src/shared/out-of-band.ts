/**
 * Out-of-band binary payloads: the codec's `bigBinary` hooks, one instance per codec (the main thread's
 * and each worker's). A non-shared ArrayBuffer — or a typed array's window of one — of at least
 * `BIG_BINARY_THRESHOLD` bytes, and every buffer the sender listed in `transfer`, does not travel inside the
 * frame: the frame carries an int32 handle.
 *
 * | way      | sender (encode)                                   | handle          | receiver (decode)                                            |
 * |----------|---------------------------------------------------|-----------------|--------------------------------------------------------------|
 * | copy     | allocates an arena block, copies the bytes in     | offset / 16 > 0 | copies the block into a new ArrayBuffer it owns, and frees   |
 * |          | (memcpy 1, on the sender's thread)                |                 | the block once the frame is decoded (memcpy 2, its thread)   |
 * | transfer | posts the buffer on the control channel, which    | −id < 0         | takes it from its inbox (pulled synchronously where the      |
 * |          | detaches it (no copy)                             |                 | platform can, else the decode waits for the message)         |
 *
 * Why the receiver copies: it must get an ArrayBuffer it can keep, write and hand on (the type the sender
 * sent), and no JavaScript engine can make a non-shared ArrayBuffer over shared memory. A frame never
 * holds the bytes themselves, so a 100 MiB buffer costs the rings nothing and needs no spill.
 *
 * Ownership of a copy block: the frame's, until a receiver decoded that frame; then the receiver frees it.
 * A frame that is never decoded (a job cancelled while queued, a worker that died first) leaves its blocks
 * to the sender, who kept the handles (`takeBlocks`) and frees them. Frees are generation-checked, so a
 * free that comes second (the receiver was faster) is refused and ignored (`freeQuietly`), never a
 * corruption. A copy handle travels with its block's generation: a frame decoded after its block was freed
 * (its call settled while the frame still waited in a lane) and reused is refused, never read. A decode that must wait (DecodeSuspend) frees nothing: it is tried again from the same bytes.
 *
 * Order: a transferred buffer is posted before the frame that names it is published, so the message is
 * already in the receiver's port when it reads the frame.
 */
import { DecodeSuspend } from '../codec/errors.js';
import type { Arena, ArenaHandle } from '../memory/arena.js';

/** Non-shared binary payloads from this many bytes on go out of band (the codec's default). */
export const BIG_BINARY_THRESHOLD = 64 * 1024;

const UNIT = 16; // arena payload offsets are 16-byte aligned

export interface OutgoingTransfer {
  readonly id: number;
  readonly buffer: ArrayBuffer;
}

export class OutOfBand {
  readonly #arena: Arena;
  // Send side: what the frames encoded since the last take put out of band.
  #blocks: ArenaHandle[] = [];
  #transfers: OutgoingTransfer[] = [];
  #nextTransferId = 1;
  // Receive side.
  readonly #inbox = new Map<string, ArrayBuffer>();
  readonly #inboxWaiters = new Map<string, Array<() => void>>();
  readonly #touchedBlocks: ArenaHandle[] = [];
  readonly #touchedTransfers: string[] = [];
  /**
   * Called when a transferred buffer is not in the inbox yet: receive waiting control messages now
   * (synchronously, where the platform can). Returns a promise when the decode must wait instead.
   */
  awaitInbox: (source: number) => Promise<unknown> | undefined = () => undefined;

  constructor(arena: Arena) {
    this.#arena = arena;
  }

  // ---------------------------------------------------------------- send side (EncodeHooks)

  /** `EncodeHooks.bigBinary`: copies `bytes` into a new arena block, or queues the buffer for transfer. */
  offer(bytes: Uint8Array, transfer: boolean): number {
    if (transfer) {
      const id = this.#nextTransferId;
      this.#nextTransferId = id >= 0x7ffffffe ? 1 : id + 1;
      this.#transfers.push({ id, buffer: bytes.buffer as ArrayBuffer });
      return -id;
    }
    const n = bytes.byteLength;
    const handle = this.#arena.alloc(n); // ArenaExhaustedError (a RangeError) when shared memory is full
    new Uint8Array(this.#arena.sab, handle.offset, n).set(bytes);
    this.#blocks.push(handle);
    return handle.offset / UNIT;
  }

  /** `EncodeHooks.bigBinaryCheck`: the generation of the block behind a copy handle (0 for a transfer). */
  checkOf(handle: number): number {
    if (handle < 0) return 0;
    for (let i = this.#blocks.length - 1; i >= 0; i--) {
      const h = this.#blocks[i]!;
      if (h.offset === handle * UNIT) return h.generation;
    }
    return 0;
  }

  /** `EncodeHooks.discardBigBinary`: the frame that took `handle` was abandoned. */
  discard(handle: number): void {
    if (handle < 0) {
      const i = this.#transfers.findIndex((t) => t.id === -handle);
      if (i >= 0) this.#transfers.splice(i, 1);
      return;
    }
    const i = this.#blocks.findIndex((h) => h.offset === handle * UNIT);
    if (i < 0) return;
    const [h] = this.#blocks.splice(i, 1);
    this.freeQuietly(h!);
  }

  /** Hands the caller the blocks of the frames encoded since the last call (undefined: none). */
  takeBlocks(): ArenaHandle[] | undefined {
    if (this.#blocks.length === 0) return undefined;
    const blocks = this.#blocks;
    this.#blocks = [];
    return blocks;
  }

  /** Hands the caller the buffers to post (before publishing the frame), in handle order. */
  takeTransfers(): OutgoingTransfer[] | undefined {
    if (this.#transfers.length === 0) return undefined;
    const t = this.#transfers;
    this.#transfers = [];
    return t;
  }

  /** Drops what an abandoned encode left behind (blocks freed, transfers forgotten: nothing was posted). */
  abandon(): void {
    for (const h of this.takeBlocks() ?? []) this.freeQuietly(h);
    this.#transfers = [];
  }

  /** Frees a block unless it is free already (the receiver got there first): true when this call freed it. */
  freeQuietly(handle: ArenaHandle): boolean {
    try {
      this.#arena.free(handle);
      return true;
    } catch {
      return false; // double free or reclaimed: the generation check refused it
    }
  }

  /**
   * Frees a block the sender kept for a frame, unless a receiver freed it already (the block is no longer
   * live under this generation). Checks first, so the common case throws nothing.
   */
  freeIfStillLive(handle: ArenaHandle): void {
    if (this.#arena.isLive(handle)) this.freeQuietly(handle);
  }

  // ---------------------------------------------------------------- receive side (DecodeHooks)

  /** A buffer another thread transferred (control message `transfer`). */
  receive(source: number, id: number, buffer: ArrayBuffer): void {
    const key = `${source}:${id}`;
    this.#inbox.set(key, buffer);
    const waiters = this.#inboxWaiters.get(key);
    if (waiters === undefined) return;
    this.#inboxWaiters.delete(key);
    for (const wake of waiters) wake();
  }

  /** Forgets what `source` (a worker slot that is gone) transferred and nobody decoded. */
  forgetSource(source: number): void {
    const prefix = `${source}:`;
    for (const key of this.#inbox.keys()) if (key.startsWith(prefix)) this.#inbox.delete(key);
  }

  /** Starts a decode: nothing touched yet. */
  beginDecode(): void {
    // (Setting `length` is a runtime call even on an empty array: skipped on the common, empty case.)
    if (this.#touchedBlocks.length !== 0) this.#touchedBlocks.length = 0;
    if (this.#touchedTransfers.length !== 0) this.#touchedTransfers.length = 0;
  }

  /**
   * Ends a decode. `completed`: the frame was read to its end or found corrupt — its copy blocks are freed
   * and its transfers leave the inbox. Otherwise (DecodeSuspend) everything stays for the next attempt.
   */
  endDecode(completed: boolean): void {
    if (completed) {
      for (const h of this.#touchedBlocks) this.freeQuietly(h);
      for (const key of this.#touchedTransfers) this.#inbox.delete(key);
    }
    if (this.#touchedBlocks.length !== 0) this.#touchedBlocks.length = 0;
    if (this.#touchedTransfers.length !== 0) this.#touchedTransfers.length = 0;
  }

  /** `DecodeHooks.bigBinary`: the ArrayBuffer behind `handle`, for the frame being decoded from `source`. */
  take(source: number, handle: number, byteLength: number, check = 0): ArrayBuffer {
    if (handle > 0) return this.#copyOut(handle * UNIT, byteLength, check);
    const key = `${source}:${-handle}`;
    let buffer = this.#inbox.get(key);
    if (buffer === undefined) {
      const wait = this.awaitInbox(source);
      buffer = this.#inbox.get(key);
      if (buffer === undefined) {
        const until = wait ?? this.#arrival(key);
        throw new DecodeSuspend(until);
      }
    }
    this.#touchedTransfers.push(key);
    return buffer;
  }

  #arrival(key: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const list = this.#inboxWaiters.get(key) ?? [];
      list.push(resolve);
      this.#inboxWaiters.set(key, list);
    });
  }

  #copyOut(offset: number, byteLength: number, generation: number): ArrayBuffer {
    const arena = this.#arena;
    if (!Number.isSafeInteger(offset) || offset >= arena.sab.byteLength) {
      throw new Error(`big binary handle names offset ${offset}, outside the shared memory`);
    }
    // The generation the frame carries: a block freed since (its call settled while the frame waited in a
    // lane) and reused by another payload is refused, never read or freed under the new owner.
    const handle: ArenaHandle = { offset, generation: generation | 0 };
    if (!arena.isLive(handle)) {
      throw new Error(`big binary handle names offset ${offset} generation ${generation}, which is no longer a live shared-memory block (the call it belonged to was settled first)`);
    }
    // slice() of a view on shared memory makes a non-shared ArrayBuffer of exactly these bytes (one copy).
    const out = arena.viewOf(handle, byteLength).slice().buffer; // viewOf checks byteLength against the block
    this.#touchedBlocks.push(handle);
    return out;
  }
}
