// The chunk plan (guided or fixed) and the claim loop, on one thread: chunks tile the range, guided sizes
// never grow and never drop below the minimum (but the last), and the loop runs each chunk once, stops at
// the stop flag, and runs exactly the listed chunks in a re-run round.
import { describe, expect, it } from 'vitest';
import { MAX_ROUNDS, STOP, doneAt, doneTotal, planChunks, unfinishedChunks, writeBounds } from '../../src/shared/kernel-control.js';
import { runChunks } from '../../src/shared/kernel-participant.js';
import { WorkgroupKernel } from '../../src/shared/kernel.js';

function ranges(length: number, participants: number, chunk?: number, minChunk?: number): [number, number][] {
  const { plan, bounds } = planChunks(length, participants, 4, chunk, minChunk);
  const out: [number, number][] = [];
  for (let k = 0; k < plan.chunks; k++) {
    out.push(plan.fixed > 0 ? [k * plan.fixed, Math.min(length, (k + 1) * plan.fixed)] : [bounds![k]!, bounds![k + 1]!]);
  }
  return out;
}

class Record extends WorkgroupKernel<number> {
  seen: [number, number][] = [];
  counts: Int32Array;
  constructor(n: number) {
    super();
    this.counts = new Int32Array(n);
  }
  run(start: number, end: number): number {
    this.seen.push([start, end]);
    for (let i = start; i < end; i++) this.counts[i]!++;
    return end - start;
  }
}

function block(length: number, participants: number, chunk?: number): { i32: Int32Array; plan: ReturnType<typeof planChunks>['plan'] } {
  const { plan, bounds } = planChunks(length, participants, MAX_ROUNDS * (participants + 1), chunk);
  const i32 = new Int32Array(new SharedArrayBuffer(plan.words * 4));
  writeBounds(i32, plan, bounds);
  return { i32, plan };
}

describe('chunk plan', () => {
  it.each([1, 2, 7, 1000, 99_991, 2 ** 31 - 1])('guided chunks tile 0..%i, large first, never growing, at least the minimum', (n) => {
    for (const participants of [1, 2, 3, 8]) {
      const r = ranges(n, participants);
      expect(r[0]![0]).toBe(0);
      expect(r.at(-1)![1]).toBe(n);
      const min = Math.max(1, Math.floor(n / (256 * participants)));
      const max = Math.max(min, Math.ceil(n / (16 * participants)));
      for (const [s, e] of r) expect(e - s).toBeLessThanOrEqual(max);
      for (let k = 1; k < r.length; k++) {
        expect(r[k]![0]).toBe(r[k - 1]![1]);
        expect(r[k]![1] - r[k]![0]).toBeLessThanOrEqual(r[k - 1]![1] - r[k - 1]![0]);
        if (k < r.length - 1) expect(r[k]![1] - r[k]![0]).toBeGreaterThanOrEqual(min);
      }
      expect(r.length).toBeLessThan(16 * participants + 2 * participants * 10 + 2); // 15/16 at the cap, then ~2P·ln(8) + the tail
    }
  });

  it('fixed chunks: ceil(n / chunk) chunks, the last one shorter', () => {
    expect(ranges(10, 2, 3)).toEqual([[0, 3], [3, 6], [6, 9], [9, 10]]);
    expect(ranges(10, 2, 100)).toEqual([[0, 10]]);
    expect(planChunks(10, 2, 8, 3).plan.words).toBe(doneAt(8) + 4);
  });

  it('a larger minChunk gives fewer, larger chunks', () => {
    expect(ranges(10_000, 2, undefined, 1000).length).toBeLessThan(ranges(10_000, 2).length);
  });
});

describe('claim loop (runChunks)', () => {
  it('runs every chunk once, publishes states and the done count, returns partials in claim order', () => {
    const n = 1001;
    const { i32, plan } = block(n, 2, 10);
    const kernel = new Record(n);
    const out = runChunks({ kernel, control: i32, plan, id: 1, round: 0, list: null, reduce: true, progress: true }, -1);
    expect(kernel.counts.every((c) => c === 1)).toBe(true);
    expect(out!.chunks).toEqual(Array.from({ length: 101 }, (_, k) => k));
    expect(out!.partials.reduce((a, b) => (a as number) + (b as number), 0)).toBe(n);
    expect(unfinishedChunks(i32, plan, undefined)).toEqual([]);
    expect(doneTotal(i32, 2)).toBe(n);
    expect(Atomics.load(i32, doneAt(1))).toBe(n);
  });

  it('a re-run round runs exactly the listed chunks', () => {
    const { i32, plan } = block(100, 2, 10);
    const kernel = new Record(100);
    runChunks({ kernel, control: i32, plan, id: 3, round: 1, list: [7, 2], reduce: false, progress: false }, -1);
    expect(kernel.seen).toEqual([[70, 80], [20, 30]]);
    expect(unfinishedChunks(i32, plan, [2, 7, 8])).toEqual([8]);
  });

  it('claims nothing once the stop flag is up; a throwing chunk raises it', () => {
    const { i32, plan } = block(100, 1, 10);
    Atomics.store(i32, STOP, 1);
    const kernel = new Record(100);
    expect(runChunks({ kernel, control: i32, plan, id: 0, round: 0, list: null, reduce: true, progress: false }, -1)).toEqual({ chunks: [], partials: [] });
    expect(kernel.seen).toEqual([]);
    const fresh = block(100, 1, 10);
    class Boom extends WorkgroupKernel {
      run(start: number): void {
        if (start === 30) throw new Error('boom');
      }
    }
    expect(() => runChunks({ kernel: new Boom(), control: fresh.i32, plan: fresh.plan, id: 0, round: 0, list: null, reduce: false, progress: false }, -1)).toThrow('boom');
    expect(Atomics.load(fresh.i32, STOP)).toBe(1);
    expect(unfinishedChunks(fresh.i32, fresh.plan, undefined)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('a kernel sees its isolate index and the stop flag only while it runs', () => {
    const { i32, plan } = block(3, 1, 1);
    const seen: [number, boolean][] = [];
    class Look extends WorkgroupKernel {
      run(start: number): void {
        if (start === 1) Atomics.store(i32, STOP, 1);
        seen.push([this.isolateIndex, this.stopRequested]);
      }
    }
    const k = new Look();
    runChunks({ kernel: k, control: i32, plan, id: 0, round: 0, list: null, reduce: false, progress: false }, 5);
    expect(seen).toEqual([[5, false], [5, true]]);
    expect(k.isolateIndex).toBe(-1);
    expect(Object.keys(k)).toEqual([]);
  });
});
