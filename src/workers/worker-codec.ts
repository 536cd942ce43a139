/**
 * The worker's side of the codec: class lookup through the shared class table and the worker's own module
 * registry, SharedArrayBuffers introduced by main, big non-shared binary payloads out of band (an arena
 * copy or a transfer, see shared/out-of-band.ts), and writing framed records into the result ring.
 */
import { decodeFrame, decodeRetrying } from '../shared/decode.js';
import { refuseReleased } from '../shared/arena-views.js';
import { BIG_BINARY_THRESHOLD, OutOfBand } from '../shared/out-of-band.js';
import { ByteReader } from '../codec/reader.js';
import { ByteWriter } from '../codec/writer.js';
import { encodeValue, type DecodeHooks, type EncodeHooks } from '../codec/codec.js';
import { DecodeSuspend } from '../codec/errors.js';
import { ClassTableReader } from '../ring/class-table.js';
import { ClassRegistry, splitClassId } from '../shared/class-registry.js';
import { writeWords } from '../ring/records.js';
import { LIBRARY_CLASSES_ID, LIBRARY_ERROR_CLASSES } from '../shared/errors.js';
import { LIBRARY_JOBS_ID, LIBRARY_JOB_CLASSES } from '../shared/run-function.js';

/** Longest a decode waits for the introduction of a SharedArrayBuffer it names. */
const BUFFER_ARRIVAL_MS = 10_000;
import { REC_SPILL } from '../ring/protocol.js';
import type { SpscProducer } from '../ring/spsc.js';
import type { Arena } from '../memory/arena.js';

export const ARENA_BUFFER_ID = 0;

export class WorkerCodec {
  readonly registry = new ClassRegistry();
  readonly writer = new ByteWriter();
  readonly reader = new ByteReader();
  readonly #table: ClassTableReader;
  readonly #buffers = new Map<number, SharedArrayBuffer>();
  readonly #idsByBuffer = new Map<SharedArrayBuffer, number>();
  readonly #byNumber: (Function | undefined)[] = [];
  /** Called when a SharedArrayBuffer id is unknown: pull control messages; returns a promise when it must wait. */
  readonly #awaitBuffer: (id: number) => Promise<unknown> | undefined;
  /** Big non-shared binary payloads (source 0: main is the only sender a worker hears from). */
  readonly outOfBand: OutOfBand;
  readonly encodeHooks: EncodeHooks;
  readonly decodeHooks: DecodeHooks;

  constructor(pool: SharedArrayBuffer, arena: Arena, awaitBuffer: (id: number) => Promise<unknown> | undefined) {
    this.#table = new ClassTableReader(pool);
    // The library's error classes cross threads as themselves (both sides import the same errors module).
    this.registry.registerModule(LIBRARY_CLASSES_ID, LIBRARY_ERROR_CLASSES);
    this.registry.registerModule(LIBRARY_JOBS_ID, LIBRARY_JOB_CLASSES); // wg.run(fn)'s job
    this.#awaitBuffer = awaitBuffer;
    this.addBuffer(ARENA_BUFFER_ID, arena.sab);
    const oob = new OutOfBand(arena);
    oob.awaitInbox = () => awaitBuffer(0);
    this.outOfBand = oob;
    const arenaSab = arena.sab;
    this.encodeHooks = {
      classRef: (ctor) => this.registry.idOf(ctor),
      sharedBuffer: (buffer) => this.#bufferId(buffer),
      isForbidden: (value) => {
        if (ArrayBuffer.isView(value) && value.buffer === arenaSab) refuseReleased(arena, value);
        return undefined;
      },
      bigBinary: (bytes, transfer) => oob.offer(bytes, transfer),
      bigBinaryCheck: (handle) => oob.checkOf(handle),
      discardBigBinary: (handle) => oob.discard(handle),
      bigBinaryThreshold: BIG_BINARY_THRESHOLD,
      transfer: undefined,
    };
    this.decodeHooks = {
      classByRef: (ref) => this.#classByRef(ref),
      sharedBuffer: (id) => this.#bufferById(id),
      bigBinary: (handle, byteLength, check) => oob.take(0, handle, byteLength, check),
    };
  }

  addBuffer(id: number, buffer: SharedArrayBuffer): void {
    this.#buffers.set(id, buffer);
    if (!this.#idsByBuffer.has(buffer)) this.#idsByBuffer.set(buffer, id);
    const waiters = this.#bufferWaiters.get(id);
    if (waiters === undefined) return;
    this.#bufferWaiters.delete(id);
    for (const wake of waiters) wake();
  }

  /** Decodes waiting for the introduction of a SharedArrayBuffer (by id). */
  readonly #bufferWaiters = new Map<number, Array<() => void>>();

  /**
   * Resolves when buffer `id` is introduced (`addBuffer`); rejects after BUFFER_ARRIVAL_MS. Main posts the
   * introduction before it publishes the job that names the buffer, but the message may still be on its
   * way: some runtimes (Deno) hand a port's messages to the event loop's pending receive, where a
   * synchronous pull cannot see them, whenever the worker's event loop is turning.
   */
  #arrival(id: number): Promise<void> {
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.#bufferWaiters.get(id);
        const at = list?.indexOf(done) ?? -1;
        if (at >= 0) list!.splice(at, 1);
        reject(new Error(`unknown shared buffer #${id}: its introduction did not arrive within ${BUFFER_ARRIVAL_MS} ms`));
      }, BUFFER_ARRIVAL_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const list = this.#bufferWaiters.get(id) ?? [];
      list.push(done);
      this.#bufferWaiters.set(id, list);
    });
    arrived.catch(() => undefined); // a first synchronous attempt's wait may be dropped for a retry's own
    return arrived;
  }

  #bufferId(buffer: SharedArrayBuffer): number {
    const id = this.#idsByBuffer.get(buffer);
    if (id !== undefined) return id;
    // A buffer created inside the worker: main learns it from a negative id plus a control message.
    const fresh = -(this.#idsByBuffer.size + 1);
    this.#idsByBuffer.set(buffer, fresh);
    this.#buffers.set(fresh, buffer);
    this.onNewBuffer?.(fresh, buffer);
    return fresh;
  }

  /** Set by the worker: tells main about a SharedArrayBuffer created in this worker. */
  onNewBuffer: ((id: number, buffer: SharedArrayBuffer) => void) | undefined;

  #bufferById(id: number): SharedArrayBuffer {
    const known = this.#buffers.get(id);
    if (known) return known;
    const wait = this.#awaitBuffer(id);
    const again = this.#buffers.get(id);
    if (again) return again;
    // Not pulled yet: the decode waits for the introduction (delivered by the event loop), not fails.
    if (wait !== undefined) wait.catch(() => undefined);
    throw new DecodeSuspend(this.#arrival(id));
  }

  #classByRef(ref: number | string): Function {
    if (typeof ref === 'number') {
      const known = this.#byNumber[ref];
      if (known) return known;
      const id = this.#table.get(ref);
      if (id === undefined) throw new Error(`class #${ref} is not in the shared class table`);
      const ctor = this.#resolve(id);
      this.#byNumber[ref] = ctor;
      return ctor;
    }
    return this.#resolve(ref);
  }

  #resolve(id: string): Function {
    const ctor = this.registry.ctorOf(id);
    if (ctor) return ctor;
    const { url, name } = splitClassId(id);
    if (!this.registry.isLoaded(url)) throw new DecodeSuspend(this.registry.load(url));
    // Main names a class of a module it could not import (its own entry module) by the class's name.
    const byName = this.registry.findByName(url, name);
    if (byName) return byName;
    throw new Error(`module ${url} does not export a class named ${name}`);
  }

  /** Decodes one value from `u8[start..end)`. May throw DecodeSuspend (copy the bytes, await, retry);
   *  then nothing out of band was consumed. */
  decode(u8: Uint8Array, start: number, end: number): unknown {
    return decodeFrame(this.reader, this.decodeHooks, this.outOfBand, u8, start, end);
  }


  /** Decodes, awaiting module imports or buffer introductions as often as needed. */
  decodeAsync(bytes: Uint8Array): Promise<unknown> {
    return decodeRetrying(() => this.decode(bytes, 0, bytes.length));
  }


  /** Why `value` cannot be sent as a result (the encoder's error), or undefined when it can. Side-effect free. */
  unsendableReason(value: unknown): unknown {
    try {
      this.writer.beginScratch();
      encodeValue(this.writer, value, this.encodeHooks, 'result');
      return undefined;
    } catch (e) {
      return e;
    } finally {
      this.outOfBand.abandon(); // nothing of the trial goes anywhere
    }
  }

  /** Encodes a value into a fresh non-shared byte array (for control messages); a value that cannot be
   *  sent goes as `plainError(value)` instead. */
  encodeStandalone(value: unknown, root: string): Uint8Array {
    const w = this.writer;
    try {
      w.beginScratch();
      encodeValue(w, value, this.encodeHooks, root);
    } catch {
      w.beginScratch();
      encodeValue(w, plainError(value), this.encodeHooks, root);
    }
    return w.bytes().slice();
  }

  /**
   * Writes a record `type` with `headerWords` (u32 each, up to 4) followed by the encoded `value` into the
   * result ring; frames larger than the ring go through the arena (REC_SPILL). `waitForSpace` is called
   * while the ring is full. Throws UnsendableError (nothing written) when the value cannot be sent.
   */
  writeRecord(
    ring: SpscProducer,
    arena: Arena,
    type: number,
    headerWords: readonly number[],
    value: unknown,
    rootName: string,
    waitForSpace: (bytes: number) => void,
  ): void {
    const head = headerWords.length * 4;
    const w = this.writer;
    let off = ring.reserveFlexible(head + 64);
    while (off < 0) {
      waitForSpace(head + 64);
      off = ring.reserveFlexible(head + 64);
    }
    w.begin(ring.u8, off + head, off + ring.limit);
    encodeValue(w, value, this.encodeHooks, rootName);
    if (!w.spilled) {
      writeWords(ring.u8, off, headerWords);
      ring.commit(type, head + w.length);
      return;
    }
    const body = w.bytes();
    const total = head + body.length;
    if (total <= ring.maxPayload) {
      let o = ring.reserve(total);
      while (o < 0) {
        waitForSpace(total);
        o = ring.reserve(total);
      }
      writeWords(ring.u8, o, headerWords);
      ring.u8.set(body, o + head);
      ring.commit(type, total);
      return;
    }
    const handle = arena.alloc(total);
    const view = arena.viewOf(handle, total);
    writeWords(view, 0, headerWords);
    view.set(body, head);
    let o = ring.reserve(16);
    while (o < 0) {
      waitForSpace(24);
      o = ring.reserve(16);
    }
    writeWords(ring.u8, o, [type, handle.offset, handle.generation, total]);
    ring.commit(REC_SPILL, 16);
  }
}

/** An Error with only the name, message and stack of `e` (sendable whatever `e` carried). */
export function plainError(e: unknown): Error {
  if (e instanceof Error) {
    const copy = new Error(e.message);
    copy.name = e.name;
    copy.stack = e.stack;
    return copy;
  }
  return new Error(String(e));
}

/** Little-endian u32 words at a 4-aligned offset. */



