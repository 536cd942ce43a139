import { describe, expect, it } from 'vitest';
import {
  FENCE_BUSY,
  FENCE_CLOSED,
  FENCE_OPEN,
  FENCE_STOP,
  FENCE_STOPPED,
  WorkerFence,
  fenceOff,
  fenceState,
  fenceWord,
} from '../../src/ring/fence.js';

const WORD = 3;

function setup(index = 0): { i32: Int32Array; worker: WorkerFence } {
  const i32 = new Int32Array(new SharedArrayBuffer(64));
  Atomics.store(i32, WORD, fenceWord(index, FENCE_OPEN));
  return { i32, worker: new WorkerFence(i32, WORD, index) };
}

const never = (): boolean => false;

describe('stop fence', () => {
  it('brackets claims and publications (nested brackets hold BUSY until the outermost leaves)', () => {
    const { i32, worker } = setup(4);
    expect(worker.enter()).toBe(true);
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_BUSY);
    expect(worker.enter()).toBe(true); // a publish inside a claim
    worker.leave();
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_BUSY);
    worker.leave();
    expect(Atomics.load(i32, WORD)).toBe(fenceWord(4, FENCE_OPEN));
    expect(worker.requested).toBe(false);
  });

  it('a worker told to stop publishes its last results, acknowledges, and is fenced for good', async () => {
    const { i32, worker } = setup(1);
    let woken = 0;
    const off = fenceOff(i32, WORD, 1, 1000, () => woken++, never);
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_STOP);
    expect(worker.requested).toBe(true);
    expect(worker.enter()).toBe(false); // no claim, no ordinary publish
    let published = 0;
    expect(worker.stop(() => published++)).toBe(true);
    expect(published).toBe(1);
    expect(await off).toBe(true);
    expect(woken).toBe(1);
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_STOPPED);
    expect(worker.fenced).toBe(true);
    expect(worker.enter()).toBe(false);
  });

  it('main closes the fence when the worker does not acknowledge within the grace: the worker publishes nothing', async () => {
    const { i32, worker } = setup(2);
    const started = performance.now();
    expect(await fenceOff(i32, WORD, 2, 30, () => undefined, never)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_CLOSED);
    // The worker comes back from its long job: it loses the stop and stays silent.
    let published = 0;
    expect(worker.stop(() => published++)).toBe(false);
    expect(published).toBe(0);
    expect(worker.fenced).toBe(true);
  });

  it('keeps waiting while the worker keeps finishing jobs, closes once it stops progressing', async () => {
    const { i32 } = setup(0);
    let finished = 0;
    const tick = setInterval(() => finished++, 5);
    setTimeout(() => clearInterval(tick), 150);
    const started = performance.now();
    expect(await fenceOff(i32, WORD, 0, 40, () => undefined, never, () => finished)).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('waits for a claim in progress (BUSY) before asking for the stop', async () => {
    const { i32, worker } = setup(3);
    expect(worker.enter()).toBe(true);
    const off = fenceOff(i32, WORD, 3, 1000, () => undefined, never);
    await new Promise((r) => setTimeout(r, 20));
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_BUSY); // main did not overwrite the bracket
    worker.leave();
    await new Promise((r) => setTimeout(r, 20));
    expect(fenceState(Atomics.load(i32, WORD))).toBe(FENCE_STOP);
    worker.stop(() => undefined);
    expect(await off).toBe(true);
  });

  it('resolves at once when the thread is gone', async () => {
    const { i32 } = setup(0);
    const started = performance.now();
    expect(await fenceOff(i32, WORD, 0, 10_000, () => undefined, () => true)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a thread that outlives its slot sees a reset or reused slot as closed (generations differ)', () => {
    const { i32, worker } = setup(5);
    Atomics.store(i32, WORD, 0); // main reset the control block
    expect(worker.requested).toBe(true);
    expect(worker.enter()).toBe(false);
    Atomics.store(i32, WORD, fenceWord(6, FENCE_OPEN)); // the next worker in the slot
    expect(worker.enter()).toBe(false);
    expect(worker.stop(() => undefined)).toBe(false);
    expect(Atomics.load(i32, WORD)).toBe(fenceWord(6, FENCE_OPEN)); // the new worker's word is untouched
  });
});
