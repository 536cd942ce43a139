/**
 * ByteWriter: the codec's output cursor.
 *
 * Contract: one writer per thread, used by one encode at a time. It writes into a caller-given region
 * `target[start..limit)` — typically a view on a SharedArrayBuffer ring, so a frame needs no copy — and,
 * when the region is too small, *spills*: it copies what it wrote so far into its own growable, non-shared
 * scratch buffer and continues there (the caller then sends the frame another way, e.g. through shared
 * memory). Nothing allocates per frame in steady state: the scratch buffer is kept between frames (and
 * dropped back to a small one at the next `begin` once it has grown past 1 MiB).
 *
 * Positions the encoder keeps across writes are *relative* to the frame start (`length`), since a spill
 * moves the frame. `bytes()` is valid until the next `begin`/`beginScratch`.
 *
 * Text: short strings are written by hand (an ASCII loop, then a UTF-8 loop) straight into the buffer,
 * shared or not. Longer ones go through `TextEncoder.encodeInto` (faster from ~48 characters on), but only
 * into non-shared memory (Chromium rejects shared views there): into a non-shared frame directly, or into
 * a text scratch that is then copied into a shared target. Every path writes the same bytes.
 */
import { Tag } from './tags.js';

const EMPTY = new Uint8Array(0);
/** Binary payloads at least this long are 8-byte aligned (see `payload`). */
export const ALIGN_MIN = 64;
const INITIAL_SCRATCH = 4096;
const MAX_KEPT_SCRATCH = 1 << 20;
/** Strings at least this long with non-ASCII text use TextEncoder instead of the JS loop. */
const TEXT_ENCODER_MIN = 256;
/** Strings at least this long are tried as ASCII with TextEncoder first (measured crossover ~32–64). */
const ENCODE_INTO_MIN = 48;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const encoder = new TextEncoder();
let textScratch = new Uint8Array(1024);
const MAX_KEPT_TEXT_SCRATCH = 1 << 20;

/** A non-shared buffer of at least `n` bytes: the reused text scratch, or a one-off for huge strings. */
function textScratchFor(n: number): Uint8Array {
  if (n <= textScratch.length) return textScratch;
  if (n > MAX_KEPT_TEXT_SCRATCH) return new Uint8Array(n);
  textScratch = new Uint8Array(Math.max(n, textScratch.length * 2));
  return textScratch;
}

/** Bytes a minimal LEB128 varint of `n` (0 <= n < 2^35) takes. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

export class ByteWriter {
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #pos = 0;
  #limit = 0;
  #shared = false;
  #spilled = false;
  #scratch: Uint8Array = new Uint8Array(INITIAL_SCRATCH);
  #target: Uint8Array = EMPTY;
  #targetShared = false;

  /** Starts a frame at `target[start..limit)`. */
  begin(target: Uint8Array, start: number, limit: number): void {
    if (!(start >= 0 && start <= limit && limit <= target.length) || start % 1 !== 0 || limit % 1 !== 0) {
      throw new RangeError(`expected 0 <= start <= limit <= target.length, got start ${start}, limit ${limit}, length ${target.length}`);
    }
    this.#dropBigScratch();
    if (target !== this.#target) {
      this.#target = target;
      this.#targetShared = !(target.buffer instanceof ArrayBuffer);
    }
    this.#buf = target;
    this.#start = start;
    this.#pos = start;
    this.#limit = limit;
    this.#shared = this.#targetShared;
    this.#spilled = false;
  }

  /** Starts a frame in the writer's own scratch buffer. */
  beginScratch(): void {
    this.#dropBigScratch();
    this.#buf = this.#scratch;
    this.#start = 0;
    this.#pos = 0;
    this.#limit = this.#scratch.length;
    this.#shared = false;
    this.#spilled = true;
  }

  /** Bytes written since `begin`. */
  get length(): number {
    return this.#pos - this.#start;
  }

  /** True when the frame lives in the scratch buffer, not in the target. */
  get spilled(): boolean {
    return this.#spilled;
  }

  /** The frame's bytes: a subarray of the target or of the scratch buffer (valid until the next begin). */
  bytes(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#pos);
  }

  /** Forgets everything written after the first `length` bytes (the frame stays where it is). */
  truncate(length: number): void {
    if (!(length >= 0 && length <= this.#pos - this.#start)) throw new RangeError(`expected 0 <= length <= ${this.length}, got ${length}`);
    this.#pos = this.#start + length;
  }

  u8(b: number): void {
    if (this.#pos >= this.#limit) this.#makeRoom(1);
    this.#buf[this.#pos++] = b;
  }

  /** Unsigned 32-bit integer, little-endian (byte-wise: any offset). */
  u32(n: number): void {
    if (this.#pos + 4 > this.#limit) this.#makeRoom(4);
    const buf = this.#buf;
    const p = this.#pos;
    buf[p] = n & 0xff;
    buf[p + 1] = (n >>> 8) & 0xff;
    buf[p + 2] = (n >>> 16) & 0xff;
    buf[p + 3] = n >>> 24;
    this.#pos = p + 4;
  }

  /** Float64 in host byte order (byte-wise: any offset). */
  f64(x: number): void {
    if (this.#pos + 8 > this.#limit) this.#makeRoom(8);
    const buf = this.#buf;
    const p = this.#pos;
    f64[0] = x;
    for (let i = 0; i < 8; i++) buf[p + i] = f64Bytes[i]!;
    this.#pos = p + 8;
  }

  /** Two bytes: a tag and a one-byte payload (the common case of a tag + small varint). */
  u8x2(a: number, b: number): void {
    if (this.#pos + 2 > this.#limit) this.#makeRoom(2);
    const buf = this.#buf;
    buf[this.#pos] = a;
    buf[this.#pos + 1] = b;
    this.#pos += 2;
  }

  /** Unsigned LEB128 varint, 0 <= n < 2^35. (Every write asks for exactly the bytes it needs, so a frame
   *  spills only when it does not fit.) */
  varint(n: number): void {
    const size = varintSize(n);
    if (this.#pos + size > this.#limit) this.#makeRoom(size);
    const buf = this.#buf;
    let p = this.#pos;
    while (n >= 0x80) {
      buf[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[p++] = n;
    this.#pos = p;
  }

  /** A tag byte then a varint. */
  tagVarint(tag: number, n: number): void {
    if (n < 0x80) {
      if (this.#pos + 2 > this.#limit) this.#makeRoom(2);
      this.#buf[this.#pos] = tag;
      this.#buf[this.#pos + 1] = n;
      this.#pos += 2;
      return;
    }
    const size = 1 + varintSize(n);
    if (this.#pos + size > this.#limit) this.#makeRoom(size);
    const buf = this.#buf;
    let p = this.#pos;
    buf[p++] = tag;
    while (n >= 0x80) {
      buf[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[p++] = n;
    this.#pos = p;
  }

  /** A tag byte then an int32 as a zigzag varint (ids and handles from hooks, which may be negative). */
  tagInt(tag: number, n: number): void {
    if ((n | 0) !== n) throw new TypeError(`expected an int32 id, got ${String(n)}`);
    this.tagVarint(tag, ((n << 1) ^ (n >> 31)) >>> 0);
  }

  /** A tag byte then a float64 in host byte order. */
  tagF64(tag: number, x: number): void {
    if (this.#pos + 9 > this.#limit) this.#makeRoom(9);
    const buf = this.#buf;
    const p = this.#pos;
    f64[0] = x;
    buf[p] = tag;
    buf[p + 1] = f64Bytes[0]!;
    buf[p + 2] = f64Bytes[1]!;
    buf[p + 3] = f64Bytes[2]!;
    buf[p + 4] = f64Bytes[3]!;
    buf[p + 5] = f64Bytes[4]!;
    buf[p + 6] = f64Bytes[5]!;
    buf[p + 7] = f64Bytes[6]!;
    buf[p + 8] = f64Bytes[7]!;
    this.#pos = p + 9;
  }

  /** Reserves `width` bytes for a varint patched later with `patchVarint`; returns its relative offset. */
  reserve(width: number): number {
    if (this.#pos + width > this.#limit) this.#makeRoom(width);
    const at = this.#pos - this.#start;
    this.#pos += width;
    return at;
  }

  /** Writes `n` as a varint padded to exactly `width` bytes at relative offset `at`. */
  patchVarint(at: number, n: number, width: number): void {
    const buf = this.#buf;
    let p = this.#start + at;
    for (let i = 1; i < width; i++) {
      buf[p++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[p] = n;
  }

  /** Fills a one-byte slot from `reserve(1)` with the count `n`, moving what follows when `n` needs a
   *  longer varint (more than 127). */
  patchCount(at: number, n: number): void {
    if (n < 0x80) {
      this.#buf[this.#start + at] = n;
      return;
    }
    const extra = varintSize(n) - 1;
    if (this.#pos + extra > this.#limit) this.#makeRoom(extra);
    const from = this.#start + at + 1;
    this.#buf.copyWithin(from + extra, from, this.#pos);
    this.#pos += extra;
    this.patchVarint(at, n, 1 + extra);
  }

  /** A binary payload: `raw`, but from ALIGN_MIN bytes on preceded by a pad-count byte and that many zero
   *  bytes so the payload starts 8-byte aligned in memory. (Copies between shared and non-shared memory
   *  run word by word only when both sides are aligned alike: unaligned, a 64 KiB copy is ~30× slower.) */
  payload(src: Uint8Array): void {
    const n = src.length;
    if (n >= ALIGN_MIN) {
      const pad = (8 - ((this.#buf.byteOffset + this.#pos + 1) & 7)) & 7;
      if (this.#pos + 1 + pad + n > this.#limit) {
        this.#makeRoom(1 + 7 + n);
        this.payload(src); // the frame moved: align again
        return;
      }
      const buf = this.#buf;
      buf[this.#pos++] = pad;
      for (let i = 0; i < pad; i++) buf[this.#pos++] = 0;
    }
    this.raw(src);
  }

  /** Copies raw bytes. */
  raw(src: Uint8Array): void {
    const n = src.length;
    if (this.#pos + n > this.#limit) this.#makeRoom(n);
    if (n <= 16) {
      const buf = this.#buf;
      let p = this.#pos;
      for (let i = 0; i < n; i++) buf[p++] = src[i]!;
    } else {
      this.#buf.set(src, this.#pos);
    }
    this.#pos += n;
  }

  /**
   * Writes a complete string value: STR_ASCII, STR_UTF8 or (for strings with lone surrogates) STR_UTF16,
   * always with a minimal length header, so the bytes do not depend on the path taken or on a spill.
   */
  string(s: string): void {
    const n = s.length;
    // Optimistic: an ASCII header of minimal width, then the characters while they are ASCII. (No form
    // of a string is shorter than its ASCII form, so if that does not fit, the frame must spill.)
    const width = n < 0x80 ? 1 : varintSize(n);
    if (this.#pos + 1 + width + n > this.#limit) this.#makeRoom(1 + width + n);
    if (n >= ENCODE_INTO_MIN) {
      if (this.#asciiNative(s, width)) return;
      this.#nonAscii(s, 0, width);
      return;
    }
    const buf = this.#buf;
    const tagAt = this.#pos;
    let p = tagAt + 1 + width;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i === n) {
      buf[tagAt] = Tag.STR_ASCII;
      this.#pos = p;
      if (width === 1) buf[tagAt + 1] = n;
      else this.patchVarint(tagAt + 1 - this.#start, n, width);
      return;
    }
    this.#pos = tagAt;
    this.#nonAscii(s, i, width);
  }

  /** Longer strings: TextEncoder copies ASCII faster than a JS loop. Into the frame when it is not shared
   *  memory, else into the text scratch and then copied. Returns false (nothing written) if not ASCII. */
  #asciiNative(s: string, width: number): boolean {
    const n = s.length;
    const tagAt = this.#pos;
    const dataAt = tagAt + 1 + width;
    const buf = this.#buf;
    if (this.#shared) {
      const text = textScratchFor(n);
      if (encoder.encodeInto(s, text.subarray(0, n)).read !== n) return false;
      buf.set(n === text.length ? text : text.subarray(0, n), dataAt);
    } else if (encoder.encodeInto(s, buf.subarray(dataAt, dataAt + n)).read !== n) {
      return false;
    }
    // All n code units fit in n bytes: each took one byte, so the string is ASCII.
    buf[tagAt] = Tag.STR_ASCII;
    this.#pos = dataAt + n;
    this.patchVarint(tagAt + 1 - this.#start, n, width);
    return true;
  }

  #nonAscii(s: string, asciiPrefix: number, asciiWidth: number): void {
    const n = s.length;
    const maxBytes = asciiPrefix + (n - asciiPrefix) * 3;
    const width = varintSize(maxBytes);
    if (!this.#spilled && this.#pos + 1 + width + maxBytes > this.#limit) {
      this.#measured(s);
      return;
    }
    // In place, after a header of `width` bytes (padded later). The ASCII prefix is already written after
    // a header of asciiWidth bytes: keep it, moving it if the header needs more room. `#makeRoom` may
    // move the frame (scratch growth), so work with relative offsets.
    const tagRel = this.#pos - this.#start;
    if (this.#pos + 1 + width + maxBytes > this.#limit) {
      this.#pos += 1 + asciiWidth + asciiPrefix;
      this.#makeRoom(width - asciiWidth + maxBytes - asciiPrefix);
      this.#pos = this.#start + tagRel;
    }
    const buf = this.#buf;
    const tagAt = this.#start + tagRel;
    const dataAt = tagAt + 1 + width;
    if (width !== asciiWidth) buf.copyWithin(dataAt, tagAt + 1 + asciiWidth, tagAt + 1 + asciiWidth + asciiPrefix);
    let end: number;
    if (n >= TEXT_ENCODER_MIN) {
      end = s.isWellFormed() ? this.#encodeLong(s, asciiPrefix, dataAt + asciiPrefix) : -1;
    } else {
      end = encodeUtf8(s, asciiPrefix, buf, dataAt + asciiPrefix);
    }
    if (end < 0) {
      this.#utf16(s);
      return;
    }
    const length = end - dataAt;
    const minimal = varintSize(length);
    if (minimal < width) {
      // Keep the header minimal: move the text back over the bytes reserved for a longer one.
      buf.copyWithin(tagAt + 1 + minimal, dataAt, end);
      end -= width - minimal;
    }
    buf[tagAt] = Tag.STR_UTF8;
    this.#pos = end;
    this.patchVarint(tagRel + 1, length, minimal);
  }

  /** Near the end of the target: encodes into the text scratch first, so the frame spills only if the
   *  string's exact size does not fit. */
  #measured(s: string): void {
    const n = s.length;
    const text = textScratchFor(3 * n);
    let length: number;
    if (n >= TEXT_ENCODER_MIN) length = s.isWellFormed() ? encoder.encodeInto(s, text).written : -1;
    else length = encodeUtf8(s, 0, text, 0);
    if (length < 0) {
      this.#utf16(s);
      return;
    }
    this.tagVarint(Tag.STR_UTF8, length);
    this.raw(text.subarray(0, length));
  }

  /** TextEncoder for the rest of a long well-formed string; never hands it a shared view. */
  #encodeLong(s: string, from: number, at: number): number {
    const rest = from === 0 ? s : s.slice(from);
    if (!this.#shared) {
      return at + encoder.encodeInto(rest, this.#buf.subarray(at)).written;
    }
    const text = textScratchFor(rest.length * 3);
    const written = encoder.encodeInto(rest, text).written;
    this.#buf.set(text.subarray(0, written), at);
    return at + written;
  }

  #utf16(s: string): void {
    const n = s.length;
    this.tagVarint(Tag.STR_UTF16, n);
    if (this.#pos + 2 * n > this.#limit) this.#makeRoom(2 * n);
    const buf = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      buf[p++] = c & 0xff;
      buf[p++] = c >>> 8;
    }
    this.#pos = p;
  }

  /** Makes room for `n` more bytes: spills out of the target, or grows the scratch buffer. */
  #makeRoom(n: number): void {
    const used = this.#pos - this.#start;
    const need = used + n;
    if (!this.#spilled) {
      if (this.#scratch.length < need) this.#scratch = new Uint8Array(Math.max(need, this.#scratch.length * 2));
      this.#scratch.set(this.#buf.subarray(this.#start, this.#pos), 0);
      this.#spilled = true;
      this.#shared = false;
    } else if (this.#scratch.length < need) {
      const bigger = new Uint8Array(Math.max(need, this.#scratch.length * 2));
      bigger.set(this.#scratch.subarray(0, used), 0);
      this.#scratch = bigger;
    }
    this.#buf = this.#scratch;
    this.#start = 0;
    this.#pos = used;
    this.#limit = this.#scratch.length;
  }

  #dropBigScratch(): void {
    if (this.#scratch.length > MAX_KEPT_SCRATCH) this.#scratch = new Uint8Array(INITIAL_SCRATCH);
  }
}

/**
 * Encodes `s` from index `i` as UTF-8 into `buf` at `p` (room for 3 bytes per code unit is guaranteed).
 * Returns the end position, or -1 if `s` has a lone surrogate.
 */
function encodeUtf8(s: string, i: number, buf: Uint8Array, p: number): number {
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return -1;
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      buf[p++] = 0xf0 | (cp >> 18);
      buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
      buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[p++] = 0x80 | (cp & 0x3f);
      i++;
    }
  }
  return p;
}
