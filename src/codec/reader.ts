/**
 * ByteReader: the codec's bounds-checked input cursor over `u8[start..end)`.
 *
 * Every read checks the bytes it needs against `end` first and throws `CodecError` (with the byte
 * offset) when they are missing, so a corrupt or truncated frame never reads out of bounds, and a
 * length is always checked against the remaining bytes before anything is allocated for it.
 *
 * Text: short strings are decoded by hand (`String.fromCharCode` over the bytes), with a small cache of
 * short ASCII strings (object keys repeat from frame to frame, and a cached key is already internalized).
 * Longer text goes through `TextDecoder`, never on a view of shared memory (Chromium rejects those, and
 * another thread could change the bytes mid-decode): shared bytes are first copied into a non-shared
 * scratch buffer.
 */
import { CodecError } from './errors.js';
import { ALIGN_MIN } from './writer.js';

const EMPTY = new Uint8Array(0);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
let textScratch = new Uint8Array(1024);
const MAX_KEPT_TEXT_SCRATCH = 1 << 20;

/** Strings up to this many bytes are decoded by hand. */
const MANUAL_TEXT_MAX = 64;
/** Short ASCII strings (keys) are looked up in a direct-mapped cache of this many entries. */
const KEY_CACHE_SIZE = 1024;
const KEY_CACHE_MAX_LENGTH = 32;
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);
/** Reused code-unit buffers for hand-decoded text. */
const units16 = new Uint16Array(MANUAL_TEXT_MAX);
const units: number[] = [];

export class ByteReader {
  #u8: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;
  #shared = false;

  /** Reads `u8[start..end)`. */
  reset(u8: Uint8Array, start: number, end: number): void {
    if (!(start >= 0 && start <= end && end <= u8.length) || start % 1 !== 0 || end % 1 !== 0) {
      throw new RangeError(`expected 0 <= start <= end <= u8.length, got start ${start}, end ${end}, length ${u8.length}`);
    }
    if (u8 !== this.#u8) {
      this.#u8 = u8;
      this.#shared = !(u8.buffer instanceof ArrayBuffer);
    }
    this.#pos = start;
    this.#end = end;
  }

  /** Absolute offset of the next byte in the buffer given to `reset`. */
  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** Throws a CodecError at the current offset (or at `offset`). */
  fail(message: string, offset: number = this.#pos): never {
    throw new CodecError(message, offset);
  }

  u8(): number {
    if (this.#pos >= this.#end) this.fail('unexpected end of data');
    return this.#u8[this.#pos++]!;
  }

  /** Unsigned 32-bit integer, little-endian. */
  u32(): number {
    const p = this.#pos;
    if (p + 4 > this.#end) this.fail('unexpected end of data in a u32');
    const u8 = this.#u8;
    this.#pos = p + 4;
    return (u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24)) >>> 0;
  }

  /** The next byte, not consumed. */
  peek(): number {
    if (this.#pos >= this.#end) this.fail('unexpected end of data');
    return this.#u8[this.#pos]!;
  }

  /** Unsigned LEB128 varint of at most 5 bytes (values < 2^35). */
  varint(): number {
    const u8 = this.#u8;
    const end = this.#end;
    let p = this.#pos;
    if (p >= end) this.fail('unexpected end of data in a varint');
    let b = u8[p++]!;
    if (b < 0x80) {
      this.#pos = p;
      return b;
    }
    let n = b & 0x7f;
    let scale = 128;
    for (let i = 1; i < 5; i++) {
      if (p >= end) this.fail('unexpected end of data in a varint');
      b = u8[p++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.#pos = p;
        return n;
      }
      scale *= 128;
    }
    return this.fail('varint longer than 5 bytes', p - 1);
  }

  /** A zigzag varint holding an int32. */
  int(): number {
    const at = this.#pos;
    const z = this.varint();
    if (z > 0xffffffff) this.fail('zigzag varint out of the int32 range', at);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A varint that counts things of at least `minBytes` bytes each still to come: checked against the
   *  remaining bytes, so a corrupt count can neither allocate nor loop beyond the frame. */
  count(minBytes: number, what: string): number {
    const at = this.#pos;
    const n = this.varint();
    if (n * minBytes > this.#end - this.#pos) this.fail(`${what} ${n} exceeds the ${this.#end - this.#pos} bytes left`, at);
    return n;
  }

  f64(): number {
    const p = this.#pos;
    if (p + 8 > this.#end) this.fail('unexpected end of data in a float64');
    const u8 = this.#u8;
    f64Bytes[0] = u8[p]!;
    f64Bytes[1] = u8[p + 1]!;
    f64Bytes[2] = u8[p + 2]!;
    f64Bytes[3] = u8[p + 3]!;
    f64Bytes[4] = u8[p + 4]!;
    f64Bytes[5] = u8[p + 5]!;
    f64Bytes[6] = u8[p + 6]!;
    f64Bytes[7] = u8[p + 7]!;
    this.#pos = p + 8;
    return f64[0]!;
  }

  /** `n` bytes as a subarray of the input (no copy; shared if the input is). */
  view(n: number): Uint8Array {
    const p = this.#pos;
    if (n > this.#end - p) this.fail(`${n} bytes needed, ${this.#end - p} left`);
    this.#pos = p + n;
    return this.#u8.subarray(p, p + n);
  }

  /** A binary payload of `n` bytes (see ByteWriter.payload: from ALIGN_MIN bytes on, after a pad count
   *  and padding) copied into a new ArrayBuffer. */
  payload(n: number): ArrayBuffer {
    if (n >= ALIGN_MIN) {
      const pad = this.u8();
      if (pad > 7) this.fail(`bad alignment padding ${pad}`, this.#pos - 1);
      if (pad > this.#end - this.#pos) this.fail('unexpected end of data in padding');
      this.#pos += pad;
    }
    return this.copy(n);
  }

  /** `n` bytes copied into a new ArrayBuffer. */
  copy(n: number): ArrayBuffer {
    const p = this.#pos;
    if (n > this.#end - p) this.fail(`${n} bytes needed, ${this.#end - p} left`);
    this.#pos = p + n;
    const out = new Uint8Array(n);
    out.set(this.#u8.subarray(p, p + n));
    return out.buffer;
  }

  /** `n` bytes, each < 0x80, as a string. */
  ascii(n: number): string {
    const p = this.#pos;
    const u8 = this.#u8;
    if (n > this.#end - p) this.fail(`string of ${n} bytes, ${this.#end - p} left`);
    if (n <= KEY_CACHE_MAX_LENGTH && n > 0) {
      // Hash of the length, the first two and the last two bytes; the comparison below checks them all.
      const h = Math.imul(n, 0x9e3779b1) ^ (u8[p]! << 3) ^ (u8[p + (n >> 1)]! << 9) ^ (u8[p + n - 1]! << 14) ^ (u8[p + n - 2 + (n === 1 ? 1 : 0)]! << 5);
      const slot = (h ^ (h >>> 12)) & (KEY_CACHE_SIZE - 1);
      const cached = keyCache[slot];
      if (cached !== undefined && cached.length === n) {
        let i = 0;
        while (i < n && cached.charCodeAt(i) === u8[p + i]) i++;
        if (i === n) {
          this.#pos = p + n;
          return cached;
        }
      }
      for (let i = 0; i < n; i++) if (u8[p + i]! >= 0x80) this.fail('non-ASCII byte in an ASCII string', p + i);
      const s = fromCodes(u8, p, n);
      keyCache[slot] = s;
      this.#pos = p + n;
      return s;
    }
    for (let i = 0; i < n; i++) if (u8[p + i]! >= 0x80) this.fail('non-ASCII byte in an ASCII string', p + i);
    this.#pos = p + n;
    return n <= MANUAL_TEXT_MAX ? fromCodes(u8, p, n) : this.#textDecode(p, n);
  }

  /** `n` bytes of well-formed UTF-8 as a string. */
  utf8(n: number): string {
    const p = this.#pos;
    if (n > this.#end - p) this.fail(`string of ${n} bytes, ${this.#end - p} left`);
    const s = n <= MANUAL_TEXT_MAX ? this.#utf8Manual(p, n) : this.#textDecode(p, n);
    this.#pos = p + n;
    return s;
  }

  /** `n` UTF-16 code units (2 bytes each, little-endian) as a string. */
  utf16(n: number): string {
    const p = this.#pos;
    if (n > (this.#end - p) / 2) this.fail(`string of ${n} UTF-16 units, ${this.#end - p} bytes left`);
    const u8 = this.#u8;
    let s = '';
    const CHUNK = 4096;
    for (let i = 0; i < n; i += CHUNK) {
      const m = Math.min(CHUNK, n - i);
      units.length = m;
      for (let j = 0; j < m; j++) {
        const q = p + 2 * (i + j);
        units[j] = u8[q]! | (u8[q + 1]! << 8);
      }
      s += String.fromCharCode.apply(null, units);
    }
    units.length = 0;
    this.#pos = p + 2 * n;
    return s;
  }

  #utf8Manual(p: number, n: number): string {
    const u8 = this.#u8;
    const end = p + n;
    let k = 0;
    while (p < end) {
      const start = p;
      const b = u8[p++]!;
      let cp: number;
      if (b < 0x80) {
        cp = b;
      } else if (b >= 0xc2 && b < 0xe0) {
        cp = ((b & 0x1f) << 6) | this.#cont(p++, end);
      } else if (b >= 0xe0 && b < 0xf0) {
        cp = ((b & 0x0f) << 12) | (this.#cont(p++, end) << 6) | this.#cont(p++, end);
        if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('invalid UTF-8', start);
      } else if (b >= 0xf0 && b < 0xf5) {
        cp = ((b & 0x07) << 18) | (this.#cont(p++, end) << 12) | (this.#cont(p++, end) << 6) | this.#cont(p++, end);
        if (cp < 0x10000 || cp > 0x10ffff) this.fail('invalid UTF-8', start);
        cp -= 0x10000;
        units16[k++] = 0xd800 + (cp >> 10);
        cp = 0xdc00 + (cp & 0x3ff);
      } else {
        this.fail('invalid UTF-8', start);
      }
      units16[k++] = cp;
    }
    return fromCodes(units16, 0, k);
  }

  #cont(p: number, end: number): number {
    if (p >= end) this.fail('truncated UTF-8 sequence', p);
    const b = this.#u8[p]!;
    if ((b & 0xc0) !== 0x80) this.fail('invalid UTF-8 continuation byte', p);
    return b & 0x3f;
  }

  #textDecode(p: number, n: number): string {
    let src = this.#u8.subarray(p, p + n);
    if (this.#shared && n > MAX_KEPT_TEXT_SCRATCH) {
      src = src.slice();
    } else if (this.#shared) {
      if (textScratch.length < n) textScratch = new Uint8Array(Math.max(n, textScratch.length * 2));
      textScratch.set(src);
      src = textScratch.subarray(0, n);
    }
    try {
      return utf8Decoder.decode(src);
    } catch {
      return this.fail('invalid UTF-8', p);
    }
  }
}

const fromCharCode = String.fromCharCode;

/** Code units (bytes < 0x80, or UTF-16) as a string: fixed-arity `String.fromCharCode` calls,
 *  which V8 runs far faster than `apply` over an array or concatenating single characters. */
function fromCodes(u8: Uint8Array | Uint16Array, p: number, n: number): string {
  switch (n) {
    case 0:
      return '';
    case 1:
      return fromCharCode(u8[p]!);
    case 2:
      return fromCharCode(u8[p]!, u8[p + 1]!);
    case 3:
      return fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!);
    case 4:
      return fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!, u8[p + 3]!);
    case 5:
      return fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!, u8[p + 3]!, u8[p + 4]!);
    case 6:
      return fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!, u8[p + 3]!, u8[p + 4]!, u8[p + 5]!);
    case 7:
      return fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!, u8[p + 3]!, u8[p + 4]!, u8[p + 5]!, u8[p + 6]!);
    default: {
      let s = fromCharCode(u8[p]!, u8[p + 1]!, u8[p + 2]!, u8[p + 3]!, u8[p + 4]!, u8[p + 5]!, u8[p + 6]!, u8[p + 7]!);
      for (let i = 8; i < n; i += 8) s += fromCodes(u8, p + i, Math.min(8, n - i));
      return s;
    }
  }
}
