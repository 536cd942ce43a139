/**
 * The shared class table: main appends the id of every class it sends (`<module url>#<export name>`);
 * frames then carry the class as a small number. Workers read entries on first use and cache them.
 *
 * Region (CLASS_TABLE_BYTES at `classTableOffset` in the pool region):
 *
 * | offset                 | width              | field                         | writer | reader  |
 * |------------------------|--------------------|-------------------------------|--------|---------|
 * | 0                      | i32 × MAX_CLASSES  | byte offset of entry i        | main   | workers |
 * | MAX_CLASSES × 4        | rest               | entries: u16 length, UTF-8 id | main   | workers |
 *
 * Publication: main writes the entry bytes and its offset with plain stores, then
 * `Atomics.store(classCount, i + 1)`; it does so before it publishes any frame that names class i, so a
 * worker that acquired the frame (through the ring's head or the cell's seq) also sees the entry.
 * Single writer (main), any number of readers; wait-free.
 */
import { CLASS_TABLE_BYTES, POOL_CLASS_BYTES_I32, POOL_CLASS_COUNT_I32, readPoolLayout } from './layout.js';

export const MAX_CLASSES = 1024;
const ENTRIES_START = MAX_CLASSES * 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ClassTableWriter {
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #base: number;
  readonly #ids = new Map<string, number>();

  constructor(pool: SharedArrayBuffer) {
    this.#i32 = new Int32Array(pool);
    this.#u8 = new Uint8Array(pool);
    this.#base = readPoolLayout(pool).classTableOffset;
  }

  /** Returns the number of `id`, appending it if new; undefined when the table is full (send the id inline). */
  intern(id: string): number | undefined {
    const known = this.#ids.get(id);
    if (known !== undefined) return known;
    const count = this.#i32[POOL_CLASS_COUNT_I32]!;
    if (count >= MAX_CLASSES) return undefined;
    const bytes = encoder.encode(id);
    let used = this.#i32[POOL_CLASS_BYTES_I32]!;
    if (used === 0) used = ENTRIES_START;
    if (bytes.length > 0xffff || used + 2 + bytes.length > CLASS_TABLE_BYTES) return undefined;
    const at = this.#base + used;
    this.#u8[at] = bytes.length & 0xff;
    this.#u8[at + 1] = bytes.length >> 8;
    this.#u8.set(bytes, at + 2);
    this.#i32[this.#base / 4 + count] = used;
    this.#i32[POOL_CLASS_BYTES_I32] = (used + 2 + bytes.length + 3) & ~3;
    Atomics.store(this.#i32, POOL_CLASS_COUNT_I32, count + 1); // publish entry `count`
    this.#ids.set(id, count);
    return count;
  }
}

export class ClassTableReader {
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #base: number;
  readonly #cache: string[] = [];

  constructor(pool: SharedArrayBuffer) {
    this.#i32 = new Int32Array(pool);
    this.#u8 = new Uint8Array(pool);
    this.#base = readPoolLayout(pool).classTableOffset;
  }

  /** The id of class number `n`, or undefined when no such entry is published. */
  get(n: number): string | undefined {
    const cached = this.#cache[n];
    if (cached !== undefined) return cached;
    if (!Number.isInteger(n) || n < 0 || n >= Atomics.load(this.#i32, POOL_CLASS_COUNT_I32)) return undefined;
    const off = this.#i32[this.#base / 4 + n]!;
    if (off < ENTRIES_START || off + 2 > CLASS_TABLE_BYTES) return undefined;
    const at = this.#base + off;
    const len = this.#u8[at]! | (this.#u8[at + 1]! << 8);
    if (off + 2 + len > CLASS_TABLE_BYTES) return undefined;
    // slice(): a non-shared copy, since some engines refuse to decode shared memory.
    const id = decoder.decode(this.#u8.slice(at + 2, at + 2 + len));
    this.#cache[n] = id;
    return id;
  }
}
