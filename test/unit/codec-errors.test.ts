// Errors keep class, message, stack, cause, own properties and AggregateError's errors; user error classes
// go through the class table, and an unknown one falls back to its nearest built-in class with its name.
import { describe, expect, it } from 'vitest';
import { decodeFromBytes, encodeToBytes, type DecodeHooks, type EncodeHooks } from '../../src/codec/codec.js';

class QuotaError extends RangeError {
  code = 'E_QUOTA';
  limit: number;
  constructor(limit: number) {
    super(`over quota ${limit}`);
    this.name = 'QuotaError';
    this.limit = limit;
  }
  describe(): string {
    return `${this.code}:${this.limit}`;
  }
}

class UnregisteredError extends TypeError {
  constructor() {
    super('nobody exported me');
  }
}
Object.defineProperty(UnregisteredError.prototype, 'name', { value: 'UnregisteredError', configurable: true, writable: true });

class FieldNamedError extends Error {
  override name = 'FieldNamedError';
}

const encodeHooks: EncodeHooks = { classRef: (c) => (c === QuotaError ? 1 : undefined), sharedBuffer: () => 0 };
const decodeHooks: DecodeHooks = {
  classByRef: (ref) => {
    if (ref === 1) return QuotaError;
    throw new Error(`unknown ${ref}`);
  },
  sharedBuffer: () => {
    throw new Error('none');
  },
};

function roundTrip<T>(value: T): T {
  return decodeFromBytes(encodeToBytes(value, encodeHooks, 'result'), decodeHooks) as T;
}

describe('codec errors', () => {
  it('built-in classes, message and stack survive, and they are real errors', () => {
    for (const E of [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
      const e = new E('boom');
      const back = roundTrip(e);
      expect(back).toBeInstanceOf(E);
      expect(back.constructor).toBe(E);
      expect(back.name).toBe(E.name);
      expect(back.message).toBe('boom');
      expect(back.stack).toBe(e.stack);
      expect(Object.prototype.toString.call(back)).toBe('[object Error]');
      expect(Object.keys(back)).toEqual([]);
    }
  });

  it('cause of any sendable kind, own enumerable properties like code', () => {
    const inner = new TypeError('inner');
    const e = new Error('outer', { cause: inner }) as Error & { code?: string; details?: unknown };
    e.code = 'E_OUTER';
    e.details = { retry: [1, 2] };
    const back = roundTrip(e) as typeof e;
    expect(back.cause).toBeInstanceOf(TypeError);
    expect((back.cause as Error).message).toBe('inner');
    expect(back.code).toBe('E_OUTER');
    expect(back.details).toEqual({ retry: [1, 2] });
    expect(Object.getOwnPropertyDescriptor(back, 'cause')?.enumerable).toBe(false);
    expect(roundTrip(new Error('x', { cause: 42n })).cause).toBe(42n);
    expect('cause' in roundTrip(new Error('x'))).toBe(false);
  });

  it('an error that is its own cause', () => {
    const e = new Error('loop');
    e.cause = e;
    const back = roundTrip(e);
    expect(back.cause).toBe(back);
  });

  it('AggregateError keeps its errors', () => {
    const e = new AggregateError([new RangeError('a'), 'plain', new Error('b')], 'many');
    const back = roundTrip(e);
    expect(back).toBeInstanceOf(AggregateError);
    expect(back.message).toBe('many');
    expect(back.errors).toHaveLength(3);
    expect(back.errors[0]).toBeInstanceOf(RangeError);
    expect(back.errors[1]).toBe('plain');
  });

  it('a registered user error class keeps its class, fields and methods', () => {
    const back = roundTrip(new QuotaError(5));
    expect(back).toBeInstanceOf(QuotaError);
    expect(back).toBeInstanceOf(RangeError);
    expect(back.name).toBe('QuotaError');
    expect(back.describe()).toBe('E_QUOTA:5');
    expect(back.message).toBe('over quota 5');
    expect(Object.prototype.toString.call(back)).toBe('[object Error]');
  });

  it('an unregistered user error class is not refused: nearest built-in class, original name', () => {
    const e = new UnregisteredError();
    const back = roundTrip(e);
    expect(back).toBeInstanceOf(TypeError);
    expect(back).not.toBeInstanceOf(UnregisteredError);
    expect(back.name).toBe('UnregisteredError');
    expect(back.message).toBe('nobody exported me');
    expect(back.stack).toBe(e.stack);
    const f = roundTrip(new FieldNamedError('m'));
    expect(f).toBeInstanceOf(Error);
    expect(f.name).toBe('FieldNamedError');
  });

  it('a DOMException (an error class the receiver lacks) arrives as an Error with its name and message', () => {
    const back = roundTrip(new DOMException('stopped by the user', 'AbortError'));
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('AbortError');
    expect(back.message).toBe('stopped by the user');
  });

  it('an unsendable own property of an error is replaced by a placeholder, the rest arrives', () => {
    const e = Object.assign(new Error('has fn'), { retry: () => 1, code: 'E_RETRY', attempts: 3 });
    const back = roundTrip({ err: e }).err as Error & { retry: unknown; code: string; attempts: number };
    expect(back).toBeInstanceOf(Error);
    expect(back.message).toBe('has fn');
    expect(back.stack).toBe(e.stack);
    expect(back.retry).toBe('[unsendable: a function]');
    expect(back.code).toBe('E_RETRY');
    expect(back.attempts).toBe(3);
    expect(Object.keys(back)).toEqual(['retry', 'code', 'attempts']);
    // the sender's error is untouched
    expect(typeof e.retry).toBe('function');
  });

  it('a bad value deeper inside an error property: the property is replaced, with the inner path', () => {
    const e = Object.assign(new Error('deep'), { details: { opts: { onDone: () => 1 } }, ok: [1, 2] });
    const back = roundTrip(e) as Error & { details: unknown; ok: number[] };
    expect(back.details).toBe('[unsendable: a function at .opts.onDone]');
    expect(back.ok).toEqual([1, 2]);
  });

  it('causes, AggregateError.errors and errors inside errors: the innermost error loses only its bad property', () => {
    const inner = Object.assign(new TypeError('inner'), { cb: () => 2, n: 1 });
    const agg = new AggregateError([inner, Object.assign(new Error('second'), { s: Symbol('x') })], 'many', { cause: Symbol('why') });
    const outer = new Error('outer', { cause: agg });
    const back = roundTrip(outer);
    const backAgg = back.cause as AggregateError;
    expect(backAgg).toBeInstanceOf(AggregateError);
    expect(backAgg.cause).toBe('[unsendable: a symbol]');
    expect(Object.getOwnPropertyDescriptor(backAgg, 'cause')?.enumerable).toBe(false);
    const [a, b] = backAgg.errors as [TypeError & { cb: unknown; n: number }, Error & { s: unknown }];
    expect(a).toBeInstanceOf(TypeError);
    expect(a.cb).toBe('[unsendable: a function]');
    expect(a.n).toBe(1);
    expect(b.s).toBe('[unsendable: a symbol]');
    // an errors list holding a plain object with a function: the list is the aggregate's property
    const agg2 = new AggregateError([{ f: () => 1 }], 'plain inside');
    expect(roundTrip(agg2).errors).toBe('[unsendable: a function at [0].f]');
  });

  it('an unsendable property keeps shared references and out-of-band handles of the rest consistent', () => {
    const shared = { n: 1 };
    const discarded: number[] = [];
    let next = 0;
    const bytes = new Map<number, ArrayBuffer>();
    const hooks: EncodeHooks = {
      ...encodeHooks,
      bigBinaryThreshold: 4,
      bigBinary: (u8) => {
        bytes.set(++next, u8.slice().buffer);
        return next;
      },
      discardBigBinary: (h) => discarded.push(h),
    };
    const e = Object.assign(new Error('mixed'), { before: shared, blob: new ArrayBuffer(8), bad: [shared, () => 1], after: shared });
    const frame = encodeToBytes({ e, again: shared }, hooks, 'result');
    const back = decodeFromBytes(frame, { ...decodeHooks, bigBinary: (h) => bytes.get(h)! }) as { e: typeof e; again: unknown };
    expect(back.e.bad).toBe('[unsendable: a function at [1]]');
    expect(back.e.before).toBe(back.e.after);
    expect(back.again).toBe(back.e.before);
    expect(back.e.blob.byteLength).toBe(8);
    // every handle the restarted attempts did not use was given back
    expect(discarded.length).toBe(next - 1);
  });

  it('non-error objects keep refusing with the path', () => {
    expect(() => encodeToBytes({ err: { handler: () => 1 } }, encodeHooks, 'result')).toThrow(/^result\.err\.handler is a function/);
  });
});
