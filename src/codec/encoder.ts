/**
 * The encoder: walks a value once, writing the tags of `tags.ts` through a ByteWriter.
 *
 * Contract: synchronous, one value per `run`; an Encoder is reused from frame to frame (the codec keeps
 * one idle instance and makes another only when an encode re-enters, e.g. from a getter). Allocation per
 * frame: nothing for plain data up to 16 objects (their identities are kept in a reused list); a Map for
 * the identities of the objects after that.
 *
 * Identity: every object takes the next index when it is first written; a second occurrence is a REF.
 * A typed array over part of a non-shared ArrayBuffer copies only its window of bytes. If that buffer
 * is met again in a way the window cannot serve (the buffer itself, or a view outside the window), the
 * encoder starts the frame over with that buffer sent whole: sharing is kept exactly, and the common
 * case pays nothing. Handles from `bigBinary` that a restarted or failed frame does not use are given
 * back through `discardBigBinary`.
 *
 * Unsendable fields of errors: an own property of an Error (enumerable, or one of the slots message,
 * stack, cause, errors) whose value cannot be sent does not refuse the frame. The error that owns the
 * property (the innermost error around the bad value) gets a string in its place, `"[unsendable: a
 * function]"`, or `"[unsendable: a function at .onDone]"` when the bad value sits deeper inside the
 * property, and the frame starts over with that property replaced (the same restart as above: one per
 * such property, and nothing paid when there is none). An error thrown by user code thus always arrives,
 * whatever it carries. Any other object keeps refusing with the path.
 */
import { type EncodeHooks } from './hooks.js';
import { Refusal, addSegment, indexSegment, keySegment, mapKeySegment, mapValueSegment, setItemSegment } from './paths.js';
import { Kind, deferredPlatformRefusal, exactKind, inheritedKind, isSharedBuffer, kindName, refusalReason } from './classify.js';
import { ByteWriter } from './writer.js';
import { DEFAULT_BIG_BINARY_THRESHOLD, ERROR_KINDS, ErrorFlag, MAX_DEPTH, SMALL_INT_BIAS, SMALL_INT_MAX, SMALL_INT_MIN, Tag, VIEW_KINDS, VIEW_KIND_DATAVIEW } from './tags.js';
import { encodeBigInt } from './bigint.js';

const NO_HOOKS: EncodeHooks = { classRef: () => undefined, sharedBuffer: () => 0 };

const IDLE_WRITER = new ByteWriter();
const LINEAR_REFS = 16;

/** Thrown to start the frame over (see the header). */
const RESTART = { restart: true };

interface Window {
  readonly start: number;
  readonly end: number;
}

export class Encoder {
  #w: ByteWriter = IDLE_WRITER;
  #hooks: EncodeHooks = NO_HOOKS;
  #depth = 0;
  // Objects seen in this frame: the first LINEAR_REFS in a list searched linearly (cheaper than a Map for
  // the few objects of a typical job, and a Map's clear() allocates), the rest in a Map.
  #count = 0;
  readonly #list: (object | undefined)[] = [];
  #refs: Map<object, number> | undefined = undefined;
  #windows: Map<ArrayBuffer, Window> | undefined = undefined;
  #whole: Set<ArrayBuffer> | undefined = undefined;
  #handles: number[] | undefined = undefined;
  // Error properties that refused in an earlier attempt at this frame: error -> key -> placeholder.
  #dropped: Map<object, Map<string, string>> | undefined = undefined;
  // One-entry cache of the last class resolved (its ref is stable for one hooks object).
  #classProto: object | null = null;
  #classHooks: EncodeHooks = NO_HOOKS;
  #classRef: number | string = 0;

  run(w: ByteWriter, value: unknown, hooks: EncodeHooks, rootName: string): void {
    this.#w = w;
    this.#hooks = hooks;
    const startLength = w.length;
    try {
      for (;;) {
        try {
          this.#value(value);
          return;
        } catch (e) {
          this.#discardHandles();
          if (e !== RESTART) throw e instanceof Refusal ? e.toUnsendable(rootName) : e;
          w.truncate(startLength);
          this.#reset();
        }
      }
    } finally {
      this.#reset();
      this.#whole = undefined;
      this.#dropped = undefined;
      this.#hooks = NO_HOOKS;
      this.#w = IDLE_WRITER;
    }
  }

  #reset(): void {
    this.#depth = 0;
    const list = this.#list;
    for (let i = Math.min(this.#count, LINEAR_REFS) - 1; i >= 0; i--) list[i] = undefined;
    this.#count = 0;
    this.#refs = undefined;
    this.#windows = undefined;
    this.#handles = undefined;
  }

  #discardHandles(): void {
    const handles = this.#handles;
    this.#handles = undefined;
    if (handles === undefined || this.#hooks.discardBigBinary === undefined) return;
    for (const h of handles) this.#hooks.discardBigBinary(h);
  }

  #lookup(o: object): number {
    const n = this.#count;
    const list = this.#list;
    for (let i = n < LINEAR_REFS ? n - 1 : LINEAR_REFS - 1; i >= 0; i--) if (list[i] === o) return i;
    if (n <= LINEAR_REFS) return -1;
    return this.#refs!.get(o) ?? -1;
  }

  #register(o: object): void {
    const n = this.#count;
    if (n < LINEAR_REFS) this.#list[n] = o;
    else (this.#refs ??= new Map()).set(o, n);
    this.#count = n + 1;
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) {
      throw new Refusal(`is nested more than ${MAX_DEPTH} levels deep: flatten the data, or send it as binary`);
    }
  }

  #value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        return this.#number(v);
      case 'string':
        return this.#w.string(v);
      case 'boolean':
        return this.#w.u8(v ? Tag.TRUE : Tag.FALSE);
      case 'undefined':
        return this.#w.u8(Tag.UNDEFINED);
      case 'object':
        return v === null ? this.#w.u8(Tag.NULL) : this.#object(v);
      case 'bigint':
        return encodeBigInt(this.#w, v);
      case 'function':
        return this.#refuseFunction(v);
      default:
        throw new Refusal('is a symbol: symbols cannot be sent to a worker; use a string instead');
    }
  }

  #number(n: number): void {
    if ((n | 0) === n) {
      if (n >= SMALL_INT_MIN && n <= SMALL_INT_MAX) {
        if (n === 0 && 1 / n < 0) this.#w.u8(Tag.NEG_ZERO);
        else this.#w.u8(n + SMALL_INT_BIAS);
      } else {
        this.#w.tagInt(Tag.INT, n);
      }
    } else {
      this.#w.tagF64(Tag.F64, n);
    }
  }

  #refuseFunction(f: Function): never {
    const forbidden = this.#hooks.isForbidden?.(f);
    if (forbidden !== undefined) throw forbiddenRefusal(forbidden);
    if (/^class[\s{]/.test(Function.prototype.toString.call(f))) {
      throw new Refusal(`is a class (${f.name || 'anonymous'}): classes cannot be sent to a worker; send an instance of it, with the class exported from a work module`);
    }
    throw new Refusal(`is a function: functions cannot be sent to a worker; send data instead, and define the code in a work module (e.g. a method of the job's class)`);
  }

  #object(o: object): void {
    const index = this.#lookup(o);
    if (index >= 0) {
      if (this.#windows?.has(o as ArrayBuffer) === true) this.#restartWhole(o as ArrayBuffer);
      return this.#w.tagVarint(Tag.REF, index);
    }
    const forbidden = this.#hooks.isForbidden?.(o);
    if (forbidden !== undefined) throw forbiddenRefusal(forbidden);
    const proto = Object.getPrototypeOf(o) as object | null;
    if (proto === Object.prototype) return this.#fields(o, Tag.OBJECT);
    if (Array.isArray(o)) {
      if (proto === Array.prototype) return this.#array(o as unknown[]);
      throw new Refusal(`is an instance of ${ctorName(proto)}, a subclass of Array: send a plain array (Array.from(value)) instead`);
    }
    if (proto === null) return this.#fields(o, Tag.OBJECT_NULL);
    const kind = exactKind(proto);
    return kind !== undefined ? this.#builtin(o, kind, proto, true) : this.#other(o, proto);
  }

  #builtin(o: object, kind: number, proto: object, exact: boolean): void {
    if (kind < Kind.ERROR_FIRST) return this.#view(o as ArrayBufferView, kind);
    if (kind < Kind.MAP) return this.#error(o as Error, kind - Kind.ERROR_FIRST, proto, exact);
    if (kind >= Kind.REFUSED_FIRST) throw new Refusal(refusalReason(kind));
    if (!exact) {
      throw new Refusal(`is an instance of ${ctorName(proto)}, a subclass of ${kindName(kind)}: subclasses of built-in types cannot be sent; send a plain ${kindName(kind)}, or keep it in a field of a class exported from a work module`);
    }
    switch (kind) {
      case Kind.MAP:
        return this.#map(o as Map<unknown, unknown>);
      case Kind.SET:
        return this.#set(o as Set<unknown>);
      case Kind.DATE:
        this.#register(o);
        return this.#w.tagF64(Tag.DATE, (o as Date).getTime());
      case Kind.REGEXP:
        return this.#regexp(o as RegExp);
      case Kind.ARRAYBUFFER:
        this.#register(o);
        return this.#bufferBody(o as ArrayBuffer, 0, (o as ArrayBuffer).byteLength);
      default:
        this.#register(o);
        return this.#w.tagInt(Tag.SAB, this.#hooks.sharedBuffer(o as SharedArrayBuffer));
    }
  }

  /** Instances of user classes, and of subclasses of built-ins. */
  #other(o: object, proto: object): void {
    let ref: number | string | undefined;
    if (proto === this.#classProto && this.#hooks === this.#classHooks) {
      ref = this.#classRef; // the last class seen, with the same hooks: a stream of one job class
    } else {
      const platform = deferredPlatformRefusal(proto); // before inheritedKind: AbortSignal is also an EventTarget
      if (platform !== undefined) throw new Refusal(platform);
      const kind = inheritedKind(proto);
      if (kind !== undefined) return this.#builtin(o, kind, proto, false);
      const ctor = ownConstructor(proto);
      if (ctor === undefined) {
        throw new Refusal('is an object whose prototype is not a class (made with Object.create?): send a plain object, or an instance of a class exported from a work module');
      }
      ref = this.#hooks.classRef(ctor);
      if (ref === undefined) {
        throw new Refusal(`is an instance of class ${ctor.name || '(anonymous)'}, which the workgroup cannot find: export it from a work module listed in \`modules\`, or add \`static module = import.meta.url\` to the class`);
      }
      this.#classProto = proto;
      this.#classHooks = this.#hooks;
      this.#classRef = ref;
    }
    this.#register(o);
    if (typeof ref === 'number') {
      this.#w.tagInt(Tag.CLASS_NUM, ref);
    } else {
      this.#w.u8(Tag.CLASS_STR);
      this.#w.string(ref);
    }
    this.#fieldsBody(o);
  }

  #fields(o: object, tag: number): void {
    this.#register(o);
    this.#w.u8(tag);
    this.#fieldsBody(o);
  }

  /** vu count, then (key, value) for each own enumerable string-keyed property. `for…in` with the
   *  `hasOwnProperty` filter is what V8 optimizes best (it iterates the enum cache and skips the check);
   *  the count goes in a one-byte slot patched afterwards. */
  #fieldsBody(o: object): void {
    this.#enter();
    const w = this.#w;
    const countAt = w.reserve(1);
    let n = 0;
    let key = '';
    try {
      for (key in o) {
        if (!hasOwnProperty.call(o, key)) continue;
        w.string(key);
        this.#value((o as Record<string, unknown>)[key]);
        n++;
      }
    } catch (e) {
      addSegment(e, keySegment(key));
    }
    w.patchCount(countAt, n);
    this.#depth--;
  }

  #array(a: unknown[]): void {
    this.#register(a);
    this.#enter();
    const w = this.#w;
    const n = a.length;
    w.tagVarint(Tag.ARRAY, n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const v = a[i];
        if (v === undefined && !(i in a)) break;
        this.#value(v);
      }
      if (i < n) {
        // A hole: finish from the own keys, so a sparse array costs its elements, not its length.
        const keys = Object.keys(a);
        let next = i;
        for (const k of keys) {
          const idx = Number(k);
          if (!(idx < n) || String(idx) !== k) break; // index keys come first, ascending
          if (idx < next) continue;
          if (idx > next) w.tagVarint(Tag.HOLE, idx - next);
          i = idx;
          this.#value(a[idx]);
          next = idx + 1;
        }
        if (next < n) w.tagVarint(Tag.HOLE, n - next);
      }
    } catch (e) {
      addSegment(e, indexSegment(i));
    }
    this.#depth--;
  }

  #map(m: Map<unknown, unknown>): void {
    this.#register(m);
    this.#enter();
    const n = m.size;
    this.#w.tagVarint(Tag.MAP, n);
    let i = 0;
    let key: unknown;
    let atKey = true;
    try {
      for (const [k, v] of m) {
        if (i === n) break;
        key = k;
        atKey = true;
        this.#value(k);
        atKey = false;
        this.#value(v);
        i++;
      }
    } catch (e) {
      addSegment(e, atKey ? mapKeySegment(i) : mapValueSegment(key, i));
    }
    if (i !== n) throw new Refusal('is a Map that changed while it was being sent');
    this.#depth--;
  }

  #set(s: Set<unknown>): void {
    this.#register(s);
    this.#enter();
    const n = s.size;
    this.#w.tagVarint(Tag.SET, n);
    let i = 0;
    try {
      for (const v of s) {
        if (i === n) break;
        this.#value(v);
        i++;
      }
    } catch (e) {
      addSegment(e, setItemSegment(i));
    }
    if (i !== n) throw new Refusal('is a Set that changed while it was being sent');
    this.#depth--;
  }

  #regexp(re: RegExp): void {
    this.#register(re);
    const w = this.#w;
    w.u8(Tag.REGEXP);
    w.string(re.source);
    w.string(re.flags);
    this.#enter();
    try {
      this.#value(re.lastIndex);
    } catch (e) {
      addSegment(e, '.lastIndex');
    }
    this.#depth--;
  }

  #view(v: ArrayBufferView, kind: number): void {
    this.#register(v);
    const w = this.#w;
    w.u8x2(Tag.VIEW, kind);
    const buffer = v.buffer;
    const byteOffset = v.byteOffset;
    const byteLength = v.byteLength;
    const length = kind === VIEW_KIND_DATAVIEW ? byteLength : (v as Uint8Array).length;
    let offset = byteOffset;
    const index = this.#lookup(buffer);
    if (isSharedBuffer(buffer)) {
      // Shared memory: by reference, zero copy.
      if (index >= 0) {
        w.tagVarint(Tag.REF, index);
      } else {
        this.#register(buffer);
        w.tagInt(Tag.SAB, this.#hooks.sharedBuffer(buffer));
      }
    } else if (index >= 0) {
      const win = this.#windows?.get(buffer);
      if (win !== undefined) {
        const size = VIEW_KINDS[kind]!.size;
        if (byteOffset < win.start || byteOffset + byteLength > win.end || (byteOffset - win.start) % size !== 0) {
          this.#restartWhole(buffer);
        }
        offset = byteOffset - win.start;
      }
      w.tagVarint(Tag.REF, index);
    } else {
      this.#register(buffer);
      const whole = byteLength === buffer.byteLength || this.#whole?.has(buffer) === true || this.#hooks.transfer?.has(buffer) === true;
      if (whole) {
        this.#bufferBody(buffer, 0, buffer.byteLength);
      } else {
        (this.#windows ??= new Map()).set(buffer, { start: byteOffset, end: byteOffset + byteLength });
        this.#bufferBody(buffer, byteOffset, byteLength);
        offset = 0;
      }
    }
    w.varint(offset);
    w.varint(length);
  }

  /** ARRAYBUFFER with `buffer[start..start+length)`, or BIG_BINARY when the hook takes it. */
  #bufferBody(buffer: ArrayBuffer, start: number, length: number): void {
    const hooks = this.#hooks;
    const w = this.#w;
    if (hooks.bigBinary !== undefined && length > 0) {
      const transfer = start === 0 && length === buffer.byteLength && hooks.transfer?.has(buffer) === true;
      if (transfer || length >= (hooks.bigBinaryThreshold ?? DEFAULT_BIG_BINARY_THRESHOLD)) {
        const handle = hooks.bigBinary(new Uint8Array(buffer, start, length), transfer);
        if (handle !== undefined) {
          (this.#handles ??= []).push(handle);
          w.tagInt(Tag.BIG_BINARY, handle);
          w.varint((hooks.bigBinaryCheck?.(handle) ?? 0) >>> 0);
          w.varint(length);
          return;
        }
      }
    }
    w.tagVarint(Tag.ARRAYBUFFER, length);
    if (length > 0) w.payload(new Uint8Array(buffer, start, length)); // (a detached buffer has length 0)
  }

  #restartWhole(buffer: ArrayBuffer): never {
    (this.#whole ??= new Set()).add(buffer);
    throw RESTART;
  }

  #error(e: Error, builtin: number, proto: object, exact: boolean): void {
    const w = this.#w;
    let ref: number | string | undefined;
    if (!exact) {
      const ctor = ownConstructor(proto);
      if (ctor !== undefined) ref = this.#hooks.classRef(ctor);
    }
    this.#register(e);
    w.u8(Tag.ERROR);
    if (ref === undefined) {
      w.u8(builtin);
    } else if (typeof ref === 'number') {
      w.tagInt(Tag.CLASS_NUM, ref);
    } else {
      w.u8(Tag.CLASS_STR);
      w.string(ref);
    }
    // Own non-enumerable fields go in the flagged slots (and are rebuilt non-enumerable); own enumerable
    // ones, whatever their name, go with the other own enumerable properties.
    const fallback = !exact && ref === undefined;
    let flags = 0;
    // A fallback (an error class the receiver will not have) also takes a message that lives on its
    // prototype, as DOMException's does.
    if (hiddenOwn(e, 'message') || (fallback && !Object.prototype.propertyIsEnumerable.call(e, 'message') && typeof e.message === 'string' && e.message !== '')) {
      flags |= ErrorFlag.MESSAGE;
    }
    if (!Object.prototype.propertyIsEnumerable.call(e, 'stack') && typeof e.stack === 'string') flags |= ErrorFlag.STACK;
    if (hiddenOwn(e, 'cause')) flags |= ErrorFlag.CAUSE;
    if (hiddenOwn(e, 'errors')) flags |= ErrorFlag.ERRORS;
    if (hiddenOwn(e, 'name') || (fallback && !Object.prototype.propertyIsEnumerable.call(e, 'name') && e.name !== ERROR_KINDS[builtin]!.prototype.name)) {
      flags |= ErrorFlag.NAME;
    }
    w.u8(flags);
    this.#enter();
    const dropped = this.#dropped?.get(e);
    let field = '';
    try {
      field = 'message';
      if ((flags & ErrorFlag.MESSAGE) !== 0) this.#errorField(dropped, field, e.message);
      field = 'stack';
      if ((flags & ErrorFlag.STACK) !== 0) this.#errorField(dropped, field, e.stack);
      field = 'cause';
      if ((flags & ErrorFlag.CAUSE) !== 0) this.#errorField(dropped, field, e.cause);
      field = 'errors';
      if ((flags & ErrorFlag.ERRORS) !== 0) this.#errorField(dropped, field, (e as AggregateError).errors);
      field = 'name';
      if ((flags & ErrorFlag.NAME) !== 0) this.#value(String(e.name));
    } catch (err) {
      this.#dropErrorField(err, e, field);
    }
    this.#errorFieldsBody(e, dropped);
    this.#depth--;
  }

  #errorField(dropped: Map<string, string> | undefined, key: string, value: unknown): void {
    const placeholder = dropped?.get(key);
    this.#value(placeholder ?? value);
  }

  /** `#fieldsBody` for an error: a property that refused before is written as its placeholder, and a new
   *  refusal drops its property and starts the frame over (see the header). */
  #errorFieldsBody(e: Error, dropped: Map<string, string> | undefined): void {
    this.#enter();
    const w = this.#w;
    const countAt = w.reserve(1);
    let n = 0;
    let key = '';
    try {
      for (key in e) {
        if (!hasOwnProperty.call(e, key)) continue;
        w.string(key);
        this.#errorField(dropped, key, (e as unknown as Record<string, unknown>)[key]);
        n++;
      }
    } catch (err) {
      this.#dropErrorField(err, e, key);
    }
    w.patchCount(countAt, n);
    this.#depth--;
  }

  /** A refusal under property `key` of error `e`: remember a placeholder for it and start over. Anything
   *  else (a restart, a getter's own error) passes through. */
  #dropErrorField(err: unknown, e: Error, key: string): never {
    if (!(err instanceof Refusal)) throw err;
    let dropped = (this.#dropped ??= new Map()).get(e);
    if (dropped === undefined) this.#dropped.set(e, (dropped = new Map()));
    if (dropped.has(key)) throw err; // the placeholder itself refused: cannot happen with a string, but never loop
    dropped.set(key, unsendablePlaceholder(err));
    throw RESTART;
  }
}

/** `"[unsendable: a function]"`, or `"[unsendable: a function at .options.onDone]"` for a value deeper in
 *  the property: the refusal's reason up to its advice, and its path inside the property. */
function unsendablePlaceholder(r: Refusal): string {
  const colon = r.reason.indexOf(': ');
  const what = (colon < 0 ? r.reason : r.reason.slice(0, colon)).replace(/^is /, '');
  const at = r.segments.length === 0 ? '' : ` at ${r.segments.slice().reverse().join('')}`;
  return `[unsendable: ${what}${at}]`;
}

const hasOwnProperty = Object.prototype.hasOwnProperty;

function hiddenOwn(o: object, key: string): boolean {
  return Object.hasOwn(o, key) && !Object.prototype.propertyIsEnumerable.call(o, key);
}

function ownConstructor(proto: object): Function | undefined {
  if (!hasOwnProperty.call(proto, 'constructor')) return undefined;
  const ctor = (proto as { constructor: unknown }).constructor;
  return typeof ctor === 'function' && (ctor as { prototype?: unknown }).prototype === proto ? ctor : undefined;
}

function ctorName(proto: object | null): string {
  const ctor = proto === null ? undefined : ownConstructor(proto);
  return ctor?.name || '(anonymous class)';
}

function forbiddenRefusal(description: string): Refusal {
  return new Refusal(`is ${description}: the workgroup's own objects cannot be sent to a worker`);
}
