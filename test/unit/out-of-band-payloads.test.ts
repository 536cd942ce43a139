// Out-of-band binary payloads (shared/out-of-band.ts) through the real codec, one thread playing both
// sides: who copies, who frees, what a suspended decode keeps, and use-after-release checks of arena views.
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, DecodeSuspend, decodeValue, encodeValue, type DecodeHooks, type EncodeHooks } from '../../src/codec/codec.js';
import { Arena, createArenaBuffer } from '../../src/memory/arena.js';
import { OutOfBand } from '../../src/shared/out-of-band.js';
import { disposable, isLive, refuseReleased, releaseView } from '../../src/shared/arena-views.js';

function arenas(): { sender: Arena; receiver: Arena } {
  const sab = createArenaBuffer({ segmentBytes: 64 * 1024, maxBytes: 32 * 2 ** 20, initialBytes: 0, maxOwners: 2 });
  return { sender: new Arena(sab, 0), receiver: new Arena(sab, 1) };
}

function hooks(oob: OutOfBand, arena: Arena, transfer?: ReadonlySet<ArrayBuffer>): { enc: EncodeHooks; dec: DecodeHooks } {
  return {
    enc: {
      classRef: () => undefined,
      sharedBuffer: () => 0,
      isForbidden: (v) => {
        if (ArrayBuffer.isView(v)) refuseReleased(arena, v);
        return undefined;
      },
      bigBinary: (b, t) => oob.offer(b, t),
      bigBinaryCheck: (h) => oob.checkOf(h),
      discardBigBinary: (h) => oob.discard(h),
      bigBinaryThreshold: 1024,
      transfer,
    },
    dec: { classByRef: () => Object, sharedBuffer: () => arena.sab, bigBinary: (h, n, c) => oob.take(7, h, n, c) },
  };
}

function encode(value: unknown, enc: EncodeHooks): Uint8Array {
  const w = new ByteWriter();
  w.beginScratch();
  encodeValue(w, value, enc, 'job');
  return w.bytes().slice();
}

function decode(bytes: Uint8Array, oob: OutOfBand, dec: DecodeHooks): unknown {
  const r = new ByteReader();
  r.reset(bytes, 0, bytes.length);
  oob.beginDecode();
  try {
    const v = decodeValue(r, dec);
    oob.endDecode(true);
    return v;
  } catch (e) {
    oob.endDecode(!(e instanceof DecodeSuspend));
    throw e;
  }
}

describe('out-of-band payloads', () => {
  it('a big non-shared array: one arena block while in flight, a private ArrayBuffer on arrival, the block freed after decode', () => {
    const { sender, receiver } = arenas();
    const out = new OutOfBand(sender);
    const inn = new OutOfBand(receiver);
    const data = new Float64Array(4096).map((_, i) => i);
    const bytes = encode({ data, small: new Uint8Array(16) }, hooks(out, sender).enc);
    expect(bytes.length).toBeLessThan(200); // the 32 KiB are not in the frame
    const blocks = out.takeBlocks()!;
    expect(blocks).toHaveLength(1); // the 16-byte array stays inline
    expect(sender.stats().liveBytes).toBe(data.byteLength);
    const got = decode(bytes, inn, hooks(inn, receiver).dec) as { data: Float64Array };
    expect(got.data).toEqual(data);
    expect(got.data.buffer).toBeInstanceOf(ArrayBuffer);
    expect(sender.stats().liveBytes).toBe(0); // the receiver freed it
    // The sender's late clean-up is a no-op, not a double free.
    out.freeIfStillLive(blocks[0]!);
    expect(sender.isLive(blocks[0]!)).toBe(false);
  });

  it('a frame whose block was freed and reused by another payload is refused: its bytes are never read, the new owner keeps its block', () => {
    // (A call that settles while its frame still waits in a lane frees the frame's blocks; the next big
    // payload can take the same offset. The frame carries the generation, so the worker refuses it.)
    const { sender, receiver } = arenas();
    const out = new OutOfBand(sender);
    const inn = new OutOfBand(receiver);
    const first = encode({ data: new Uint8Array(4096).fill(1) }, hooks(out, sender).enc);
    const [old] = out.takeBlocks()!;
    out.freeIfStillLive(old!); // settled while in flight: main frees what the frame took
    const second = encode({ data: new Uint8Array(4096).fill(2) }, hooks(out, sender).enc);
    const [reused] = out.takeBlocks()!;
    expect(reused!.offset).toBe(old!.offset); // same memory, new generation
    expect(() => decode(first, inn, hooks(inn, receiver).dec)).toThrow(/no longer a live shared-memory block/);
    expect(sender.isLive(reused!)).toBe(true); // the stale frame freed nothing of the new owner
    const got = decode(second, inn, hooks(inn, receiver).dec) as { data: Uint8Array };
    expect(got.data.every((b) => b === 2)).toBe(true);
    expect(sender.stats().liveBytes).toBe(0);
  });

  it('a suspended decode keeps the blocks for the next attempt; a frame never decoded is freed by the sender', () => {
    const { sender, receiver } = arenas();
    const out = new OutOfBand(sender);
    const inn = new OutOfBand(receiver);
    const bytes = encode([new Uint8Array(5000).fill(9)], hooks(out, sender).enc);
    const blocks = out.takeBlocks()!;
    let suspend = true;
    const dec: DecodeHooks = { ...hooks(inn, receiver).dec, sharedBuffer: () => receiver.sab };
    const suspending: DecodeHooks = {
      ...dec,
      bigBinary: (h, n, c) => {
        const b = inn.take(7, h, n, c);
        if (suspend) throw new DecodeSuspend(Promise.resolve());
        return b;
      },
    };
    expect(() => decode(bytes, inn, suspending)).toThrow(DecodeSuspend);
    expect(sender.isLive(blocks[0]!)).toBe(true);
    suspend = false;
    expect((decode(bytes, inn, suspending) as Uint8Array[])[0]![4999]).toBe(9);
    expect(sender.isLive(blocks[0]!)).toBe(false);

    encode([new Uint8Array(5000)], hooks(out, sender).enc);
    const never = out.takeBlocks()!;
    expect(sender.isLive(never[0]!)).toBe(true);
    for (const h of never) out.freeIfStillLive(h);
    expect(sender.stats().liveBlocks).toBe(0);
  });

  it('an encode that fails gives its blocks back (discard), and nothing is left to take', () => {
    const { sender } = arenas();
    const out = new OutOfBand(sender);
    expect(() => encode([new Uint8Array(5000), () => 1], hooks(out, sender).enc)).toThrow(/function/);
    expect(out.takeBlocks()).toBeUndefined();
    expect(sender.stats().liveBlocks).toBe(0);
  });

  it('transfer: the buffer waits in the inbox of its source; the decode suspends until it arrives', async () => {
    const { sender, receiver } = arenas();
    const out = new OutOfBand(sender);
    const inn = new OutOfBand(receiver);
    const buf = new Float64Array([1, 2, 3]).buffer;
    const bytes = encode({ buf }, hooks(out, sender, new Set([buf])).enc);
    const [t] = out.takeTransfers()!;
    expect(t!.buffer).toBe(buf);
    let suspended: unknown;
    try {
      decode(bytes, inn, hooks(inn, receiver).dec);
    } catch (e) {
      suspended = e;
    }
    expect(suspended).toBeInstanceOf(DecodeSuspend);
    inn.receive(7, t!.id, t!.buffer);
    await (suspended as DecodeSuspend).until;
    const got = decode(bytes, inn, hooks(inn, receiver).dec) as { buf: ArrayBuffer };
    expect(got.buf).toBe(buf); // (one thread: the very object; across threads, the moved buffer)
    expect(() => decode(bytes, inn, hooks(inn, receiver).dec)).toThrow(DecodeSuspend); // taken once
  });
});

describe('arena views', () => {
  it('refuses a released view, also after the memory was reused, and checks nothing for other buffers', () => {
    const { sender } = arenas();
    const a = sender.allocArray(Float64Array, 8);
    releaseView(sender, a);
    expect(isLive(sender, a)).toBe(false);
    const { enc } = hooks(new OutOfBand(sender), sender);
    expect(() => encode({ a }, enc)).toThrow(/^job\.a is a Float64Array whose shared memory was already released/);
    const b = sender.allocArray(Float64Array, 8); // likely the same block, a new generation
    expect(() => encode({ a }, enc)).toThrow(/already released/);
    expect(() => encode({ b, other: new Float64Array(new SharedArrayBuffer(8)) }, enc)).not.toThrow();
  });

  it('a view that arrived by reference is released with the handle it has now, and is then refused', () => {
    const { sender, receiver } = arenas();
    const a = sender.allocArray(Int32Array, 4);
    const there = new Int32Array(receiver.sab, a.byteOffset, 4); // what a receiver decodes
    releaseView(receiver, there);
    expect(isLive(sender, a)).toBe(false);
    expect(() => refuseReleased(receiver, there)).toThrow(/already released/);
  });

  it('disposable arrays release once, even after an explicit release', () => {
    const { sender } = arenas();
    const a = disposable(sender, sender.allocArray(Uint8Array, 100));
    a[Symbol.dispose]();
    expect(sender.stats().liveBlocks).toBe(0);
    expect(() => a[Symbol.dispose]()).not.toThrow();
    expect(Object.keys(a)).not.toContain('Symbol(Symbol.dispose)');
  });
});
