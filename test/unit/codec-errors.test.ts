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

  it('an error with an unsendable property is refused with the path', () => {
    const e = new Error('x') as Error & { handler?: unknown };
    e.handler = () => 1;
    expect(() => encodeToBytes({ err: e }, encodeHooks, 'result')).toThrow(/^result\.err\.handler is a function/);
    expect(() => encodeToBytes(new Error('y', { cause: Symbol('s') }), encodeHooks, 'result')).toThrow(/^result\.cause is a symbol/);
  });
});
