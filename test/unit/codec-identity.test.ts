// Shared references and cycles come back as the same objects; SharedArrayBuffers and their views come
// back on the very same SharedArrayBuffer (zero copy); views on one non-shared buffer keep sharing it.
import { describe, expect, it } from 'vitest';
import { decodeFromBytes, encodeToBytes, type DecodeHooks, type EncodeHooks } from '../../src/codec/codec.js';

/** A fake shared-buffer registry standing in for the workgroup's: ids both ways. */
function sabRegistry(): { encode: EncodeHooks; decode: DecodeHooks; lookups: number[] } {
  const ids = new Map<SharedArrayBuffer, number>();
  const byId: SharedArrayBuffer[] = [];
  const lookups: number[] = [];
  return {
    lookups,
    encode: {
      classRef: () => undefined,
      sharedBuffer: (b) => {
        let id = ids.get(b);
        if (id === undefined) {
          id = byId.length;
          ids.set(b, id);
          byId.push(b);
        }
        return id;
      },
    },
    decode: {
      classByRef: () => {
        throw new Error('no classes');
      },
      sharedBuffer: (id) => {
        lookups.push(id);
        return byId[id]!;
      },
    },
  };
}

const hooks = sabRegistry();
function roundTrip<T>(value: T, h = hooks): T {
  return decodeFromBytes(encodeToBytes(value, h.encode, 'job'), h.decode) as T;
}

describe('codec identity', () => {
  it('the same object twice decodes to one object', () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: [shared, shared], c: new Map([['k', shared]]) });
    expect(back.a).toBe(back.b[0]);
    expect(back.b[1]).toBe(back.a);
    expect(back.c.get('k')).toBe(back.a);
  });

  it('identity holds for frames with many objects (past the linear list, into the Map)', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ i }));
    const back = roundTrip({ first: items, again: [...items].reverse() });
    for (let i = 0; i < 100; i++) {
      expect(back.first[i]!.i).toBe(i);
      expect(back.again[99 - i]).toBe(back.first[i]);
    }
  });

  it('cycles through objects, arrays, Maps, Sets and back', () => {
    const o: Record<string, unknown> = { name: 'root' };
    const list: unknown[] = [o];
    const m = new Map<unknown, unknown>([[o, list]]);
    const s = new Set<unknown>([m]);
    o.self = o;
    o.list = list;
    o.set = s;
    list.push(list);
    m.set('map', m);
    const back = roundTrip(o);
    const bList = back.list as unknown[];
    const bSet = back.set as Set<unknown>;
    const bMap = [...bSet][0] as Map<unknown, unknown>;
    expect(back.self).toBe(back);
    expect(bList[0]).toBe(back);
    expect(bList[1]).toBe(bList);
    expect(bMap.get(back)).toBe(bList);
    expect(bMap.get('map')).toBe(bMap);
  });

  it('an array that contains itself first thing', () => {
    const a: unknown[] = [];
    a.push(a, a);
    const back = roundTrip(a);
    expect(back[0]).toBe(back);
    expect(back[1]).toBe(back);
  });

  it('Dates, RegExps and Errors keep identity too', () => {
    const d = new Date(5);
    const e = new Error('x');
    const back = roundTrip([d, d, e, { e }]);
    expect(back[0]).toBe(back[1]);
    expect((back[3] as { e: Error }).e).toBe(back[2]);
  });

  it('a view on a SharedArrayBuffer decodes onto the same SharedArrayBuffer, zero copy', () => {
    const sab = new SharedArrayBuffer(64);
    const f64 = new Float64Array(sab, 8, 4);
    const back = roundTrip({ f64 });
    expect(back.f64).toBeInstanceOf(Float64Array);
    expect(back.f64.buffer).toBe(sab);
    expect(back.f64.byteOffset).toBe(8);
    expect(back.f64.length).toBe(4);
    back.f64[0] = 42; // same memory
    expect(f64[0]).toBe(42);
    const bytes = encodeToBytes(new Float64Array(new SharedArrayBuffer(1 << 20)), hooks.encode, 'job');
    expect(bytes.length).toBeLessThan(16);
  });

  it('several views on one SharedArrayBuffer stay on one buffer, looked up once', () => {
    const h = sabRegistry();
    const sab = new SharedArrayBuffer(32);
    const value = { a: new Uint8Array(sab), b: new Int32Array(sab, 4, 2), dv: new DataView(sab, 16), sab };
    const back = roundTrip(value, h);
    expect(back.a.buffer).toBe(sab);
    expect(back.b.buffer).toBe(sab);
    expect(back.dv.buffer).toBe(sab);
    expect(back.sab).toBe(sab);
    expect(h.lookups).toEqual([0]);
  });

  it('a growable SharedArrayBuffer passes by reference', () => {
    const Sab = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
    const sab = new Sab(8, { maxByteLength: 64 });
    expect(roundTrip(sab)).toBe(sab);
  });

  it('the same typed array twice is one typed array', () => {
    const u8 = new Uint8Array([1, 2, 3]);
    const back = roundTrip([u8, u8]);
    expect(back[0]).toBe(back[1]);
  });

  it('two views on one non-shared buffer share one decoded buffer (the encoder starts over to send it whole)', () => {
    const buffer = new ArrayBuffer(32);
    new Uint8Array(buffer).set(Array.from({ length: 32 }, (_, i) => i));
    const head = new Uint8Array(buffer, 0, 8);
    const tail = new Uint32Array(buffer, 16, 4);
    const back = roundTrip({ head, tail });
    expect(back.head.buffer).toBe(back.tail.buffer);
    expect(back.head.buffer.byteLength).toBe(32);
    expect(back.tail.byteOffset).toBe(16);
    expect(Array.from(back.head)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(back.tail[0]).toBe(new Uint32Array(buffer, 16, 1)[0]);
    back.head[0] = 99;
    expect(new Uint8Array(back.tail.buffer)[0]).toBe(99);
  });

  it('a view and then its own buffer: the buffer is sent whole, once', () => {
    const buffer = new ArrayBuffer(16);
    const view = new Int16Array(buffer, 2, 3);
    const [bView, bBuffer] = roundTrip([view, buffer] as const);
    expect(bView.buffer).toBe(bBuffer);
    expect(bBuffer.byteLength).toBe(16);
    expect(bView.byteOffset).toBe(2);
  });

  it('a second view inside the first one\'s window reuses the window without starting over', () => {
    const buffer = new ArrayBuffer(64);
    const outer = new Uint8Array(buffer, 8, 32);
    outer.fill(7);
    const inner = new Uint16Array(buffer, 10, 4);
    const bytes = encodeToBytes([outer, inner], hooks.encode, 'job');
    expect(bytes.length).toBeLessThan(64);
    const [bOuter, bInner] = roundTrip([outer, inner] as const);
    expect(bInner.buffer).toBe(bOuter.buffer);
    expect(bInner.byteOffset).toBe(2);
    expect(bInner[0]).toBe(0x0707);
  });

  it('big binaries go out of band through the hooks, and unused handles are given back on a restart', () => {
    const store = new Map<number, Uint8Array>();
    const discarded: number[] = [];
    let next = 0;
    const encode: EncodeHooks = {
      ...hooks.encode,
      bigBinaryThreshold: 16,
      bigBinary: (bytes) => {
        store.set(next, bytes.slice());
        return next++;
      },
      discardBigBinary: (h) => discarded.push(h),
    };
    const decode: DecodeHooks = { ...hooks.decode, bigBinary: (h, n) => store.get(h)!.slice(0, n).buffer };
    const buffer = new ArrayBuffer(64);
    new Uint8Array(buffer).fill(3);
    const a = new Uint8Array(buffer, 0, 32); // a window big enough for the hook
    const b = new Uint8Array(buffer, 40, 8); // outside it: start over, send the buffer whole
    const bytes = encodeToBytes({ a, b }, encode, 'job');
    expect(bytes.length).toBeLessThan(40);
    expect(discarded).toEqual([0]);
    const back = decodeFromBytes(bytes, decode) as { a: Uint8Array; b: Uint8Array };
    expect(back.a.buffer).toBe(back.b.buffer);
    expect(back.b[0]).toBe(3);
  });

  it('transfer-listed buffers are offered whole with transfer = true', () => {
    const buffer = new ArrayBuffer(8);
    const offered: [number, boolean][] = [];
    const encode: EncodeHooks = {
      ...hooks.encode,
      transfer: new Set([buffer]),
      bigBinary: (bytes, transfer) => {
        offered.push([bytes.byteLength, transfer]);
        return 5;
      },
    };
    const decode: DecodeHooks = { ...hooks.decode, bigBinary: (h, n) => (h === 5 ? buffer : new ArrayBuffer(n)) };
    const back = decodeFromBytes(encodeToBytes(new Uint8Array(buffer, 2, 2), encode, 'job'), decode) as Uint8Array;
    expect(offered).toEqual([[8, true]]);
    expect(back.buffer).toBe(buffer);
    expect(back.byteOffset).toBe(2);
  });
});
