/**
 * Wait-free single-producer single-consumer byte ring with variable-length, length-prefixed records.
 *
 * Contract: exactly one producer thread and one consumer thread (a `SpscProducer` and a `SpscConsumer`
 * handle over the same region; neither can call the other's methods). Both sides are wait-free: every
 * call finishes in a bounded number of steps and allocates nothing. Records are contiguous in memory
 * (a PAD record fills the gap at the end of the ring), so the consumer reads a payload in place.
 *
 * Ring header (RING_HEADER_BYTES = 3 lines, at `headerOffset` in the region):
 *
 * | offset | width | field           | writer   | reader   | Atomics op                          |
 * |--------|-------|-----------------|----------|----------|-------------------------------------|
 * | 0      | i32   | head (bytes)    | producer | consumer | store (publish) / load (acquire)    |
 * | 128    | i32   | tail (bytes)    | consumer | producer | store (release space) / load        |
 * | 256    | i32   | producerWaiting | producer set, consumer clears | both | store / exchange |
 *
 * Records (at `dataOffset + (cursor & mask)`, 8-byte aligned):
 *
 * | offset | width | field                         |
 * |--------|-------|-------------------------------|
 * | 0      | i32   | payload length in bytes (L)   |
 * | 4      | i32   | record type (0 = PAD)         |
 * | 8      | L     | payload, then padding to a multiple of 8 |
 *
 * `head` and `tail` are free-running Int32 byte counters (they wrap at 2^32; differences are taken with
 * `| 0`), the capacity is a power of two, and a record never exceeds half the capacity, so a record
 * always fits once the ring has drained.
 *
 * Publication: the producer writes header and payload with plain stores, then publishes with one
 * `Atomics.store(head)` (which releases every byte written before it); the consumer's `Atomics.load(head)`
 * acquires them. The consumer frees space with one `Atomics.store(tail)` after it has finished reading
 * (it releases the bytes back to the producer, whose `Atomics.load(tail)` acquires that).
 */
import { LINE } from './layout.js';

export const RECORD_HEADER = 8;
export const PAD = 0;

const HEAD_I32 = 0;
const TAIL_I32 = LINE / 4;
const WAITING_I32 = (2 * LINE) / 4;

export class RingCorruptError extends Error {
  override name = 'RingCorruptError';
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Largest payload a ring of `capacity` bytes accepts in one record. */
export function maxPayload(capacity: number): number {
  return capacity / 2 - RECORD_HEADER;
}

interface RingView {
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly hdr: number; // i32 index of the ring header
  readonly data: number; // byte offset of the ring bytes
  readonly capacity: number;
}

function view(sab: SharedArrayBuffer, headerOffset: number, dataOffset: number, capacity: number): RingView {
  if ((capacity & (capacity - 1)) !== 0 || capacity < 64) {
    throw new RangeError(`expected ring \`capacity\` to be a power of two >= 64, got ${capacity}`);
  }
  if (headerOffset % LINE !== 0 || dataOffset % 8 !== 0 || dataOffset + capacity > sab.byteLength) {
    throw new RangeError(`ring region out of range: header ${headerOffset}, data ${dataOffset}+${capacity}, buffer ${sab.byteLength}`);
  }
  return { u8: new Uint8Array(sab), i32: new Int32Array(sab), hdr: headerOffset / 4, data: dataOffset, capacity };
}

export class SpscProducer {
  /** The whole region as bytes: payload offsets returned by `reserve` index into it. */
  readonly u8: Uint8Array;
  readonly capacity: number;
  /** Largest payload one record can carry (capacity / 2 − header). */
  readonly maxPayload: number;
  readonly #i32: Int32Array;
  readonly #hdr: number;
  readonly #data: number;
  readonly #mask: number;
  #head: number; // local cursor, ahead of the published one while a batch is being written
  #tailCache: number;
  #pendingPos = -1;
  /** After `reserveFlexible`: how many contiguous payload bytes may be written at the returned offset. */
  limit = 0;

  constructor(sab: SharedArrayBuffer, headerOffset: number, dataOffset: number, capacity: number) {
    const v = view(sab, headerOffset, dataOffset, capacity);
    this.u8 = v.u8;
    this.#i32 = v.i32;
    this.#hdr = v.hdr;
    this.#data = v.data;
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.maxPayload = maxPayload(capacity);
    this.#head = Atomics.load(this.#i32, this.#hdr + HEAD_I32);
    this.#tailCache = Atomics.load(this.#i32, this.#hdr + TAIL_I32);
  }

  /** Free bytes as seen now. Can be late: the consumer may have freed more since (never less). */
  get free(): number {
    this.#tailCache = Atomics.load(this.#i32, this.#hdr + TAIL_I32);
    return this.capacity - ((this.#head - this.#tailCache) | 0);
  }

  /** True when nothing is written and unread. Can be late in the "not empty" direction. */
  get isEmpty(): boolean {
    return this.free === this.capacity;
  }

  #ensure(need: number): boolean {
    if (this.capacity - ((this.#head - this.#tailCache) | 0) >= need) return true;
    this.#tailCache = Atomics.load(this.#i32, this.#hdr + TAIL_I32); // acquire the space the consumer released
    return this.capacity - ((this.#head - this.#tailCache) | 0) >= need;
  }

  /**
   * Reserves room for a payload of exactly `payloadBytes`. Returns the payload's byte offset in `u8`, or
   * −1 when the ring is too full right now. Throws RangeError if the payload can never fit.
   */
  reserve(payloadBytes: number): number {
    // Range-check the length itself, before any Int32 arithmetic: align8 of 2^31 or 2^32 wraps to a small
    // (or negative) size that would pass a check on `size` alone. `!(… )` also refuses NaN.
    if (!(payloadBytes >= 0 && payloadBytes <= this.maxPayload)) {
      throw new RangeError(`record of ${payloadBytes} bytes exceeds the ring's maximum payload of ${this.maxPayload} bytes`);
    }
    const size = align8(RECORD_HEADER + payloadBytes);
    let pos = this.#head & this.#mask;
    const toEnd = this.capacity - pos;
    if (!this.#ensure(size <= toEnd ? size : toEnd + size)) return -1;
    if (size > toEnd) {
      this.#writePad(pos, toEnd);
      pos = 0;
    }
    this.#pendingPos = pos;
    this.limit = payloadBytes; // only the reserved bytes are known to be free (reserveFlexible widens it)
    return this.#data + pos + RECORD_HEADER;
  }

  /**
   * Reserves at least `minPayload` contiguous bytes and reports in `limit` how many more are free up to
   * the end of the ring (capped at `maxPayload`), for writers that learn the length as they encode.
   * Returns −1 when `minPayload` does not fit now.
   */
  reserveFlexible(minPayload: number): number {
    const off = this.reserve(minPayload);
    if (off < 0) return off;
    const pos = this.#pendingPos; // === head & mask (a PAD, if any, already moved head to 0)
    const free = this.capacity - ((this.#head - this.#tailCache) | 0);
    const contiguous = Math.min(this.capacity - pos, free);
    this.limit = Math.max(minPayload, Math.min(this.maxPayload, contiguous - RECORD_HEADER));
    return off;
  }

  #writePad(pos: number, bytes: number): void {
    const at = (this.#data + pos) >> 2;
    this.#i32[at] = bytes - RECORD_HEADER;
    this.#i32[at + 1] = PAD;
    this.#head = (this.#head + bytes) | 0;
  }

  /** Finishes the reserved record with its type and real payload length (<= the reserved length / limit). */
  commit(type: number, payloadBytes: number): void {
    const pos = this.#pendingPos;
    if (pos < 0) throw new Error('SpscProducer.commit without reserve');
    const at = (this.#data + pos) >> 2;
    this.#i32[at] = payloadBytes;
    this.#i32[at + 1] = type;
    this.#head = (this.#head + align8(RECORD_HEADER + payloadBytes)) | 0;
    this.#pendingPos = -1;
  }

  /** Publishes every committed record: one `Atomics.store(head)` releases all of their bytes. */
  publish(): void {
    Atomics.store(this.#i32, this.#hdr + HEAD_I32, this.#head);
  }

  /** Convenience: reserve + copy + commit + publish. Returns false when the ring is too full now. */
  tryWrite(type: number, payload: Uint8Array): boolean {
    const off = this.reserve(payload.byteLength);
    if (off < 0) return false;
    this.u8.set(payload, off);
    this.commit(type, payload.byteLength);
    this.publish();
    return true;
  }

  /** Marks the producer as waiting for space (the consumer clears the flag and wakes it). */
  setWaiting(on: boolean): void {
    Atomics.store(this.#i32, this.#hdr + WAITING_I32, on ? 1 : 0);
  }

  /**
   * Parks the producer (worker threads only: it blocks) until at least `bytes` are free or the timeout
   * passes. Publishes first, so the consumer can see and drain what is already written. Dekker pair with
   * `SpscConsumer.release`: the producer sets `producerWaiting` then reads `tail`; the consumer stores
   * `tail` then reads `producerWaiting` — with SC atomics at least one of them sees the other.
   */
  waitForSpace(bytes: number, timeoutMs: number): boolean {
    this.publish();
    this.setWaiting(true);
    const tail = Atomics.load(this.#i32, this.#hdr + TAIL_I32);
    this.#tailCache = tail;
    if (this.capacity - ((this.#head - tail) | 0) < bytes) {
      Atomics.wait(this.#i32, this.#hdr + TAIL_I32, tail, timeoutMs);
    }
    this.setWaiting(false);
    return this.#ensure(bytes);
  }

  /** The published head (for diagnostics and tests). */
  get publishedHead(): number {
    return Atomics.load(this.#i32, this.#hdr + HEAD_I32);
  }
}

export class SpscConsumer {
  readonly u8: Uint8Array;
  readonly capacity: number;
  readonly #i32: Int32Array;
  readonly #hdr: number;
  readonly #data: number;
  readonly #mask: number;
  #tail: number;
  #headCache: number;
  #size = 0;
  /** Type of the record returned by the last `next()`. */
  type = 0;
  /** Payload length of the record returned by the last `next()`. */
  length = 0;

  constructor(sab: SharedArrayBuffer, headerOffset: number, dataOffset: number, capacity: number) {
    const v = view(sab, headerOffset, dataOffset, capacity);
    this.u8 = v.u8;
    this.#i32 = v.i32;
    this.#hdr = v.hdr;
    this.#data = v.data;
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#tail = Atomics.load(this.#i32, this.#hdr + TAIL_I32);
    this.#headCache = Atomics.load(this.#i32, this.#hdr + HEAD_I32);
  }

  /** True when no published record is unread. Can be late in the "empty" direction. */
  get isEmpty(): boolean {
    if (this.#headCache !== this.#tail) return false;
    this.#headCache = Atomics.load(this.#i32, this.#hdr + HEAD_I32);
    return this.#headCache === this.#tail;
  }

  /**
   * Returns the byte offset (in `u8`) of the next record's payload and sets `type` and `length`, or −1
   * when the ring is empty. PAD records are skipped. Call `advance()` when done with the record.
   * Throws RingCorruptError for a header that cannot be right (bounds-checked: never reads outside the ring).
   */
  next(): number {
    for (;;) {
      let avail = (this.#headCache - this.#tail) | 0;
      if (avail === 0) {
        this.#headCache = Atomics.load(this.#i32, this.#hdr + HEAD_I32); // acquire the producer's records
        avail = (this.#headCache - this.#tail) | 0;
        if (avail === 0) return -1;
      }
      const pos = this.#tail & this.#mask;
      const at = (this.#data + pos) >> 2;
      const len = this.#i32[at]!;
      const type = this.#i32[at + 1]!;
      const size = align8(RECORD_HEADER + len);
      // `len > capacity` first: for len near 2^31 the Int32 `size` wraps negative and would pass the rest.
      if (len < 0 || len > this.capacity || avail < 0 || avail > this.capacity || size > avail || size > this.capacity - pos) {
        throw new RingCorruptError(
          `corrupt ring record at cursor ${this.#tail} (offset ${pos}): length ${len}, type ${type}, ${avail} bytes published`,
        );
      }
      if (type === PAD) {
        this.#tail = (this.#tail + size) | 0;
        continue;
      }
      this.type = type;
      this.length = len;
      this.#size = size;
      return this.#data + pos + RECORD_HEADER;
    }
  }

  /** Consumes the record returned by the last `next()` (locally; `release()` makes the space visible). */
  advance(): void {
    this.#tail = (this.#tail + this.#size) | 0;
    this.#size = 0;
  }

  /**
   * Gives consumed space back to the producer with one `Atomics.store(tail)`. Returns true when the
   * producer had flagged itself as waiting for space (the caller then notifies it: `notifyProducer()`).
   */
  release(): boolean {
    Atomics.store(this.#i32, this.#hdr + TAIL_I32, this.#tail);
    return Atomics.load(this.#i32, this.#hdr + WAITING_I32) !== 0;
  }

  notifyProducer(): void {
    Atomics.notify(this.#i32, this.#hdr + TAIL_I32);
  }
}
