/**
 * The decoder: reads one value from a ByteReader, rebuilding identity from the frame's object table.
 *
 * Contract: synchronous; reused from frame to frame like the Encoder. Safe on any input: every read is
 * bounds-checked by the reader, every count is checked against the bytes left before anything is
 * allocated or looped over, recursion stops at MAX_DEPTH, and every failure is a CodecError with the byte
 * offset. Errors thrown by the hooks (DecodeSuspend, or their own) pass through unchanged; nothing the
 * decoder did needs undoing, so the caller may decode the same bytes again.
 */
import { decodeBigInt } from './bigint.js';
import { type DecodeHooks } from './hooks.js';
import { isSharedBuffer } from './classify.js';
import { ByteReader } from './reader.js';
import { ERROR_FLAGS_ALL, ERROR_KINDS, ErrorFlag, MAX_DEPTH, SMALL_INT_BIAS, SMALL_INT_FIRST, Tag, VIEW_KINDS } from './tags.js';

const MAX_ARRAY_LENGTH = 2 ** 32 - 1;
const IDLE_READER = new ByteReader();
const NO_HOOKS: DecodeHooks = {
  classByRef: () => {
    throw new TypeError('no decode hooks');
  },
  sharedBuffer: () => {
    throw new TypeError('no decode hooks');
  },
};

/** Per prototype: the property names that plain assignment must not be used for (setters, read-only
 *  properties up the chain). Empty for most classes, so their fields are assigned directly. */
const unsafeKeysByProto = new WeakMap<object, ReadonlySet<string>>();
const NONE: ReadonlySet<string> = new Set();

function unsafeKeys(proto: object): ReadonlySet<string> {
  let keys = unsafeKeysByProto.get(proto);
  if (keys !== undefined) return keys;
  const found = new Set<string>();
  for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, name)!;
      if (d.set !== undefined || d.get !== undefined || d.writable === false) found.add(name);
    }
  }
  keys = found.size === 0 ? NONE : found;
  unsafeKeysByProto.set(proto, keys);
  return keys;
}

function defineData(o: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable, configurable: true });
}

export class Decoder {
  #r: ByteReader = IDLE_READER;
  #hooks: DecodeHooks = NO_HOOKS;
  /** The frame's object table: `#objects[0..#count)`; cleared after each frame so nothing is retained. */
  readonly #objects: unknown[] = [];
  #count = 0;
  #depth = 0;
  #lastProto: object | null = null;
  #lastUnsafe: ReadonlySet<string> = NONE;

  run(r: ByteReader, hooks: DecodeHooks): unknown {
    this.#r = r;
    this.#hooks = hooks;
    this.#depth = 0;
    this.#count = 0;
    try {
      return this.#value();
    } finally {
      const objects = this.#objects;
      for (let i = this.#count - 1; i >= 0; i--) objects[i] = undefined;
      if (objects.length > 4096) objects.length = 0;
      this.#hooks = NO_HOOKS;
    }
  }

  #push(o: unknown): void {
    this.#objects[this.#count++] = o;
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) this.#r.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  }

  #value(): unknown {
    const r = this.#r;
    const tag = r.u8();
    if (tag >= SMALL_INT_FIRST) return tag - SMALL_INT_BIAS;
    switch (tag) {
      case Tag.UNDEFINED:
        return undefined;
      case Tag.NULL:
        return null;
      case Tag.FALSE:
        return false;
      case Tag.TRUE:
        return true;
      case Tag.INT:
        return r.int();
      case Tag.F64:
        return r.f64();
      case Tag.NEG_ZERO:
        return -0;
      case Tag.BIGINT_POS:
      case Tag.BIGINT_NEG:
        return decodeBigInt(r, tag === Tag.BIGINT_NEG);
      case Tag.STR_ASCII:
        return r.ascii(r.varint());
      case Tag.STR_UTF8:
        return r.utf8(r.varint());
      case Tag.STR_UTF16:
        return r.utf16(r.varint());
      case Tag.REF:
        return this.#ref();
      case Tag.ARRAY:
        return this.#array();
      case Tag.OBJECT: {
        const o = {};
        this.#push(o);
        return this.#fields(o, NONE);
      }
      case Tag.OBJECT_NULL: {
        const o = Object.create(null) as object;
        this.#push(o);
        return this.#fields(o, NONE);
      }
      case Tag.MAP:
        return this.#map();
      case Tag.SET:
        return this.#set();
      case Tag.DATE: {
        const d = new Date(r.f64());
        this.#push(d);
        return d;
      }
      case Tag.REGEXP:
        return this.#regexp();
      case Tag.ARRAYBUFFER:
      case Tag.SAB:
      case Tag.BIG_BINARY:
        return this.#buffer(tag);
      case Tag.VIEW:
        return this.#view();
      case Tag.ERROR:
        return this.#error();
      case Tag.CLASS_NUM:
      case Tag.CLASS_STR:
        return this.#instance(tag);
      default:
        return r.fail(`unknown tag 0x${tag.toString(16)}`, r.offset - 1);
    }
  }

  #string(what: string): string {
    const r = this.#r;
    const at = r.offset;
    const tag = r.u8();
    if (tag === Tag.STR_ASCII) return r.ascii(r.varint());
    if (tag === Tag.STR_UTF8) return r.utf8(r.varint());
    if (tag === Tag.STR_UTF16) return r.utf16(r.varint());
    return r.fail(`expected a string (${what}), found tag 0x${tag.toString(16)}`, at);
  }

  #ref(): unknown {
    const r = this.#r;
    const at = r.offset;
    const index = r.varint();
    if (index >= this.#count) r.fail(`REF to object #${index}, only ${this.#count} so far`, at);
    return this.#objects[index];
  }

  /** vu count, then (key, value) pairs assigned to `o`. */
  #fields(o: object, unsafe: ReadonlySet<string>): object {
    const r = this.#r;
    this.#enter();
    const n = r.count(3, 'property count');
    for (let i = 0; i < n; i++) {
      const key = this.#string('property key');
      const value = this.#value();
      if (key === '__proto__' || (unsafe !== NONE && unsafe.has(key))) defineData(o, key, value, true);
      else (o as Record<string, unknown>)[key] = value;
    }
    this.#depth--;
    return o;
  }

  #array(): unknown[] {
    const r = this.#r;
    const at = r.offset;
    const n = r.varint();
    if (n > MAX_ARRAY_LENGTH) r.fail(`array length ${n} is too large`, at);
    const a: unknown[] = [];
    this.#push(a);
    this.#enter();
    let i = 0;
    while (i < n) {
      if (r.peek() === Tag.HOLE) {
        r.u8();
        const runAt = r.offset;
        const run = r.varint();
        if (run < 1 || run > n - i) r.fail(`hole run of ${run} in an array of ${n} at index ${i}`, runAt);
        i += run;
        a.length = i;
      } else {
        a.push(this.#value());
        i++;
      }
    }
    this.#depth--;
    return a;
  }

  #map(): Map<unknown, unknown> {
    const n = this.#r.count(2, 'Map size');
    const m = new Map<unknown, unknown>();
    this.#push(m);
    this.#enter();
    for (let i = 0; i < n; i++) {
      const k = this.#value();
      m.set(k, this.#value());
    }
    this.#depth--;
    return m;
  }

  #set(): Set<unknown> {
    const n = this.#r.count(1, 'Set size');
    const s = new Set<unknown>();
    this.#push(s);
    this.#enter();
    for (let i = 0; i < n; i++) s.add(this.#value());
    this.#depth--;
    return s;
  }

  #regexp(): RegExp {
    const at = this.#r.offset;
    const source = this.#string('RegExp source');
    const flags = this.#string('RegExp flags');
    let re: RegExp;
    try {
      re = new RegExp(source, flags);
    } catch {
      return this.#r.fail('invalid RegExp', at);
    }
    this.#push(re);
    this.#enter();
    re.lastIndex = this.#value() as number;
    this.#depth--;
    return re;
  }

  /** ARRAYBUFFER, SAB or BIG_BINARY body (the tag is read). */
  #buffer(tag: number): ArrayBuffer | SharedArrayBuffer {
    const r = this.#r;
    const at = r.offset;
    let buffer: ArrayBuffer | SharedArrayBuffer;
    if (tag === Tag.ARRAYBUFFER) {
      buffer = r.payload(r.varint());
    } else if (tag === Tag.SAB) {
      const id = r.int();
      buffer = this.#hooks.sharedBuffer(id);
      if (!isSharedBuffer(buffer)) r.fail(`unknown SharedArrayBuffer id ${id}`, at);
    } else {
      const handle = r.int();
      const check = r.varint();
      const byteLength = r.varint();
      const hook = this.#hooks.bigBinary;
      if (hook === undefined) return r.fail('BIG_BINARY without a bigBinary decode hook', at);
      buffer = hook.call(this.#hooks, handle, byteLength, check);
      if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== byteLength) {
        r.fail(`big binary handle ${handle} did not give an ArrayBuffer of ${byteLength} bytes`, at);
      }
    }
    this.#push(buffer);
    return buffer;
  }

  #view(): ArrayBufferView {
    const r = this.#r;
    const at = r.offset;
    const kind = VIEW_KINDS[r.u8()];
    if (kind === undefined) return r.fail('unknown view kind', at);
    if (kind.ctor === undefined) return r.fail(`${kind.name} is not available here`, at);
    const slot = this.#count;
    this.#push(undefined); // the view's index comes before its buffer's
    const bufferAt = r.offset;
    const tag = r.u8();
    let buffer: unknown;
    if (tag === Tag.REF) buffer = this.#ref();
    else if (tag === Tag.ARRAYBUFFER || tag === Tag.SAB || tag === Tag.BIG_BINARY) buffer = this.#buffer(tag);
    if (!(buffer instanceof ArrayBuffer) && !isSharedBuffer(buffer)) return r.fail(`${kind.name} without a buffer`, bufferAt);
    const offsetAt = r.offset;
    const byteOffset = r.varint();
    const length = r.varint();
    if (byteOffset % kind.size !== 0 || byteOffset + length * kind.size > buffer.byteLength) {
      r.fail(`${kind.name} of ${length} at byte ${byteOffset} does not fit its buffer of ${buffer.byteLength} bytes`, offsetAt);
    }
    const view = new kind.ctor(buffer, byteOffset, length);
    this.#objects[slot] = view;
    return view;
  }

  #classOf(tag: number, at: number): Function {
    const ref = tag === Tag.CLASS_NUM ? this.#r.int() : this.#string('class id');
    const ctor = this.#hooks.classByRef(ref);
    if (typeof ctor !== 'function' || typeof ctor.prototype !== 'object' || ctor.prototype === null) {
      return this.#r.fail(`class ref ${JSON.stringify(ref)} did not give a class`, at);
    }
    return ctor;
  }

  #instance(tag: number): object {
    const ctor = this.#classOf(tag, this.#r.offset - 1);
    const proto = ctor.prototype as object;
    if (proto !== this.#lastProto) {
      this.#lastProto = proto;
      this.#lastUnsafe = unsafeKeys(proto);
    }
    const o = Object.create(proto) as object;
    this.#push(o);
    return this.#fields(o, this.#lastUnsafe);
  }

  #error(): Error {
    const r = this.#r;
    const at = r.offset;
    const kind = r.u8();
    let ctor: Function;
    if (kind === Tag.CLASS_NUM || kind === Tag.CLASS_STR) ctor = this.#classOf(kind, at);
    else if (kind < ERROR_KINDS.length) ctor = ERROR_KINDS[kind]!;
    else return r.fail(`unknown error kind ${kind}`, at);
    const e = constructError(ctor);
    if (e === undefined) return r.fail(`class ${ctor.name} is not an Error constructor`, at);
    this.#push(e);
    const flags = r.u8();
    if ((flags & ~ERROR_FLAGS_ALL) !== 0) r.fail(`bad error flags 0x${flags.toString(16)}`, r.offset - 1);
    this.#enter();
    if ((flags & ErrorFlag.MESSAGE) !== 0) defineData(e, 'message', this.#value(), false);
    if ((flags & ErrorFlag.STACK) !== 0) defineData(e, 'stack', this.#value(), false);
    else delete e.stack;
    if ((flags & ErrorFlag.CAUSE) !== 0) defineData(e, 'cause', this.#value(), false);
    if ((flags & ErrorFlag.ERRORS) !== 0) defineData(e, 'errors', this.#value(), false);
    if ((flags & ErrorFlag.NAME) !== 0) defineData(e, 'name', this.#value(), false);
    this.#fields(e, unsafeKeys(Object.getPrototypeOf(e) as object));
    this.#depth--;
    return e;
  }
}

/** A real error object (with the engine's error brand) whose prototype is `ctor.prototype`, without
 *  running `ctor` and without paying for a stack trace. */
function constructError(ctor: Function): Error | undefined {
  const E = Error as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  try {
    if (limit !== undefined) E.stackTraceLimit = 0;
    return Reflect.construct(Error, [], ctor) as Error;
  } catch {
    return undefined;
  } finally {
    if (limit !== undefined) E.stackTraceLimit = limit;
  }
}
