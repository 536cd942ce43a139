// Unsendable values are refused with UnsendableError whose message starts with the exact path of the bad
// value and says how to fix it; the codec stays usable afterwards.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ByteWriter, Refusal, UnsendableError, decodeFromBytes, encodeToBytes, encodeValue, type EncodeHooks } from '../../src/codec/codec.js';

class Workgroup {
  size = 2;
}
const workgroup = new Workgroup();
const memberProxy = new Proxy(function member() {}, {});

const hooks: EncodeHooks = {
  classRef: () => undefined,
  sharedBuffer: () => 0,
  isForbidden: (v) => (v === workgroup ? 'an IsolateWorkgroup' : v === memberProxy ? 'a member proxy' : undefined),
};

function refusal(value: unknown, root = 'job'): UnsendableError {
  try {
    encodeToBytes(value, hooks, root);
  } catch (e) {
    if (e instanceof UnsendableError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('codec refusals', () => {
  it.each([
    ['a function', { options: { onDone: () => 1 } }, 'job.options.onDone', 'is a function: functions cannot be sent to a worker'],
    ['a class', { k: Workgroup }, 'job.k', 'is a class (Workgroup)'],
    ['a symbol', { list: [1, 2, Symbol('s')] }, 'job.list[2]', 'is a symbol'],
    ['a Promise', { p: Promise.resolve(1) }, 'job.p', 'is a Promise: promises cannot be sent to a worker; await it'],
    ['a WeakMap', { w: new WeakMap() }, 'job.w', 'is a WeakMap'],
    ['a WeakSet', { w: new WeakSet() }, 'job.w', 'is a WeakSet'],
    ['a WeakRef', { w: new WeakRef({}) }, 'job.w', 'is a WeakRef'],
    ['a FinalizationRegistry', { f: new FinalizationRegistry(() => {}) }, 'job.f', 'is a FinalizationRegistry'],
    ['a boxed primitive', { n: Object(1) as unknown }, 'job.n', 'is a boxed Number object'],
    ['a MessagePort', { port: new MessageChannel().port1 }, 'job.port', 'is a MessagePort'],
    ['an unknown class', { a: { b: new Workgroup() } }, 'job.a.b', 'is an instance of class Workgroup, which the workgroup cannot find'],
    ['an Array subclass', { l: new (class List extends Array {})() }, 'job.l', 'a subclass of Array'],
    ['a Map subclass', { m: new (class Registry extends Map {})() }, 'job.m', 'is an instance of Registry, a subclass of Map'],
  ])('%s', (_kind, value, path, text) => {
    const e = refusal(value);
    expect(e.path).toBe(path);
    expect(e.message.startsWith(`${path} `)).toBe(true);
    expect(e.message).toContain(text);
    expect(e.name).toBe('UnsendableError');
    expect(e.code).toBe('ERR_UNSENDABLE');
  });

  it('the workgroup\'s own objects, and its proxies, via isForbidden', () => {
    expect(refusal({ wg: workgroup }).message).toBe("job.wg is an IsolateWorkgroup: the workgroup's own objects cannot be sent to a worker");
    expect(refusal([memberProxy]).message).toMatch(/^job\[0\] is a member proxy/);
  });

  it('paths through Maps, Sets, odd keys, errors and typed roots', () => {
    const f = (): void => {};
    expect(refusal({ m: new Map([['k', f]]) }).path).toBe('job.m.get("k")');
    expect(refusal({ m: new Map([[7, f]]) }).path).toBe('job.m.get(7)');
    expect(refusal({ m: new Map<unknown, unknown>([[{}, 1], [{}, f]]) }).path).toBe('job.m.values()[1]');
    expect(refusal({ m: new Map([[f, 1]]) }).path).toBe('job.m.keys()[0]');
    expect(refusal({ s: new Set([1, 2, f]) }).path).toBe('job.s.values()[2]');
    expect(refusal({ 'a b': { 0: f } }).path).toBe('job["a b"]["0"]');
    expect(refusal({ e: new Error('x'), m: [f] }).path).toBe('job.m[0]');
    expect(refusal(f, 'result').path).toBe('result');
  });

  it('a hook may refuse a value with its own reason, and gets the path prefixed', () => {
    const released = new Float64Array(4);
    const h: EncodeHooks = {
      ...hooks,
      isForbidden: (v) => {
        if (v === released) throw new Refusal('is a Float64Array whose shared memory was already released');
        return undefined;
      },
    };
    expect(() => encodeToBytes({ data: [released] }, h, 'job')).toThrow(/^job\.data\[0\] is a Float64Array whose shared memory was already released$/);
  });

  it('symbol-keyed properties are skipped silently, symbol values are refused', () => {
    const back = decodeFromBytes(encodeToBytes({ a: 1, [Symbol('k')]: 2 }, hooks, 'job'), {
      classByRef: () => Object,
      sharedBuffer: () => new SharedArrayBuffer(1),
    });
    expect(back).toEqual({ a: 1 });
    expect(Object.getOwnPropertySymbols(back)).toEqual([]);
  });

  it('nesting deeper than 1000 levels is refused, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    const e = refusal(deep);
    expect(e.message).toContain('nested more than 1000 levels deep');
    expect(e.path.length).toBeLessThan(200); // long paths are abridged
    let deepArray: unknown = [];
    for (let i = 1; i < 1000; i++) deepArray = [deepArray]; // 1000 levels: fine
    expect(() => encodeToBytes(deepArray, hooks, 'job')).not.toThrow();
    expect(() => encodeToBytes([deepArray], hooks, 'job')).toThrow(UnsendableError);
  });

  it('after a refusal the same writer and encoder work normally', () => {
    const w = new ByteWriter();
    const shared = { s: 1 };
    w.beginScratch();
    expect(() => encodeValue(w, [shared, shared, { f: () => 1 }], hooks, 'job')).toThrow(UnsendableError);
    const bytes = encodeToBytes([shared, shared], hooks, 'job');
    const back = decodeFromBytes(bytes, { classByRef: () => Object, sharedBuffer: () => new SharedArrayBuffer(1) }) as object[];
    expect(back[0]).toBe(back[1]);
  });

  it('errors thrown by getters pass through unchanged', () => {
    const o = {
      get bad(): number {
        throw new RangeError('getter failed');
      },
    };
    expect(() => encodeToBytes(o, hooks, 'job')).toThrow('getter failed');
  });

  it('a hook id that is not an int32 is a TypeError (a bug in the hook, not in the value)', () => {
    expect(() => encodeToBytes(new SharedArrayBuffer(4), { ...hooks, sharedBuffer: () => 1.5 }, 'job')).toThrow(TypeError);
  });
});
