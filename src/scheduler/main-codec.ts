/**
 * The main thread's side of the codec: which classes it can send (class registry + shared class table),
 * which SharedArrayBuffers the workers know (introduced once over the control channel, then referenced by
 * id), which objects are never sendable (the workgroup's own, arena arrays already released), and big
 * non-shared binary payloads, which travel out of band (`OutOfBand`: an arena copy, or a transfer).
 */
import { decodeFrame, decodeRetrying } from '../shared/decode.js';
import type { Arena } from '../memory/arena.js';
import { refuseReleased } from '../shared/arena-views.js';
import { BIG_BINARY_THRESHOLD, OutOfBand } from '../shared/out-of-band.js';
import { ByteReader } from '../codec/reader.js';
import { ByteWriter } from '../codec/writer.js';
import { encodeValue, type DecodeHooks, type EncodeHooks } from '../codec/codec.js';
import { ClassUnavailableError, DecodeSuspend } from '../codec/errors.js';
import { ClassTableWriter } from '../ring/class-table.js';
import { ClassRegistry, deferredMessage, splitClassId } from '../shared/class-registry.js';
import { LIBRARY_CLASSES_ID, LIBRARY_ERROR_CLASSES } from '../shared/errors.js';
import { LIBRARY_JOBS_ID, LIBRARY_JOB_CLASSES } from '../shared/run-function.js';

export const ARENA_BUFFER_ID = 0;

/** Objects that must never be sent (registered by the api layer: workgroups, proxies). */
const forbidden = new WeakMap<object, string>();

export function markUnsendable(obj: object, description: string): void {
  forbidden.set(obj, description);
}

export class MainCodec {
  readonly registry = new ClassRegistry();
  readonly writer = new ByteWriter();
  readonly reader = new ByteReader();
  readonly #table: ClassTableWriter;
  readonly #classNumbers = new Map<Function, number | string>();
  readonly #bufferIds = new Map<SharedArrayBuffer, number>();
  readonly #buffers = new Map<number, SharedArrayBuffer>();
  /** Buffers created inside workers, by `${slot}:${id}`. */
  readonly #workerBuffers = new Map<string, SharedArrayBuffer>();
  readonly #bufferWaiters = new Map<string, Array<() => void>>();
  #nextBufferId = 1;
  /** Set by the core: introduces a new SharedArrayBuffer to every live worker (before any frame names it). */
  introduce: (id: number, buffer: SharedArrayBuffer) => void = () => {};
  /** The slot whose frame is being decoded (for worker-created buffer ids). */
  decodingSlot = -1;
  /** Big non-shared binary payloads: arena copies and transfers, both directions. */
  readonly outOfBand: OutOfBand;
  readonly encodeHooks: EncodeHooks;
  readonly decodeHooks: DecodeHooks;

  constructor(pool: SharedArrayBuffer, arena: Arena) {
    this.#table = new ClassTableWriter(pool);
    // The library's error classes cross threads as themselves (both sides import the same errors module).
    this.registry.registerModule(LIBRARY_CLASSES_ID, LIBRARY_ERROR_CLASSES);
    this.registry.registerModule(LIBRARY_JOBS_ID, LIBRARY_JOB_CLASSES); // wg.run(fn)'s job
    this.#bufferIds.set(arena.sab, ARENA_BUFFER_ID);
    this.#buffers.set(ARENA_BUFFER_ID, arena.sab);
    const oob = new OutOfBand(arena);
    this.outOfBand = oob;
    const arenaSab = arena.sab;
    this.encodeHooks = {
      classRef: (ctor) => this.#classRef(ctor),
      sharedBuffer: (buffer) => this.#bufferId(buffer),
      isForbidden: (value) => {
        const own = forbidden.get(value);
        if (own === undefined && ArrayBuffer.isView(value) && value.buffer === arenaSab) refuseReleased(arena, value);
        return own;
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
      bigBinary: (handle, byteLength, check) => oob.take(this.decodingSlot, handle, byteLength, check),
    };
  }

  /** Forgets what a worker slot that is gone introduced or transferred (a new worker reuses its ids). */
  forgetWorker(slot: number): void {
    const prefix = `${slot}:`;
    for (const key of this.#workerBuffers.keys()) if (key.startsWith(prefix)) this.#workerBuffers.delete(key);
    this.outOfBand.forgetSource(slot);
  }

  /** Every buffer introduced so far (for workers that start later). */
  knownBuffers(): Array<[number, SharedArrayBuffer]> {
    return [...this.#buffers].filter(([id]) => id !== ARENA_BUFFER_ID);
  }

  #classRef(ctor: Function): number | string | undefined {
    const known = this.#classNumbers.get(ctor);
    if (known !== undefined) return known;
    const id = this.registry.idOf(ctor);
    if (id === undefined) return undefined;
    const ref = this.#table.intern(id) ?? id;
    this.#classNumbers.set(ctor, ref);
    return ref;
  }

  #bufferId(buffer: SharedArrayBuffer): number {
    const known = this.#bufferIds.get(buffer);
    if (known !== undefined) return known;
    const id = this.#nextBufferId++;
    this.#bufferIds.set(buffer, id);
    this.#buffers.set(id, buffer);
    this.introduce(id, buffer);
    return id;
  }

  #classByRef(ref: number | string): Function {
    const id = typeof ref === 'string' ? ref : undefined;
    if (id === undefined) throw new Error(`worker sent class number ${ref}, which only main assigns`);
    const ctor = this.registry.ctorOf(id);
    if (ctor) return ctor;
    const { url, name } = splitClassId(id);
    if (this.registry.isDeferred(url)) throw new ClassUnavailableError(deferredMessage(url)); // (see ClassRegistry.defer)
    if (!this.registry.isLoaded(url)) throw new DecodeSuspend(this.registry.load(url));
    throw new Error(`module ${url} does not export a class named ${name}`);
  }

  #bufferById(id: number): SharedArrayBuffer {
    if (id >= 0) {
      const b = this.#buffers.get(id);
      if (!b) throw new Error(`unknown shared buffer #${id}`);
      return b;
    }
    const key = `${this.decodingSlot}:${id}`;
    const b = this.#workerBuffers.get(key);
    if (b) return b;
    throw new DecodeSuspend(
      new Promise<void>((resolve) => {
        const list = this.#bufferWaiters.get(key) ?? [];
        list.push(resolve);
        this.#bufferWaiters.set(key, list);
      }),
    );
  }

  /** A worker introduced a SharedArrayBuffer it created. */
  addWorkerBuffer(slot: number, id: number, buffer: SharedArrayBuffer): void {
    const key = `${slot}:${id}`;
    this.#workerBuffers.set(key, buffer);
    for (const wake of this.#bufferWaiters.get(key) ?? []) wake();
    this.#bufferWaiters.delete(key);
  }

  /**
   * The encoded size of `value` with big binary payloads counted inline (nothing leaves main: no arena
   * copy, no transfer), or undefined when it cannot be encoded. For sizing, not for sending.
   */
  encodedSize(value: unknown): number | undefined {
    const w = this.writer;
    try {
      w.beginScratch();
      encodeValue(w, value, this.#sizingHooks, 'job');
      return w.spilled ? w.bytes().length : w.length;
    } catch {
      return undefined;
    }
  }

  get #sizingHooks(): EncodeHooks {
    return (this.#sizing ??= { ...this.encodeHooks, bigBinary: undefined, bigBinaryThreshold: Infinity });
  }

  #sizing: EncodeHooks | undefined;

  /** Decodes one value. May throw DecodeSuspend (then nothing out of band was consumed). */
  decode(u8: Uint8Array, start: number, end: number, slot: number): unknown {
    this.decodingSlot = slot;
    return decodeFrame(this.reader, this.decodeHooks, this.outOfBand, u8, start, end);
  }


  /** Decodes a private copy, awaiting module imports or buffer introductions. */
  decodeAsync(bytes: Uint8Array, slot: number): Promise<unknown> {
    return decodeRetrying(() => this.decode(bytes, 0, bytes.length, slot));
  }

}
