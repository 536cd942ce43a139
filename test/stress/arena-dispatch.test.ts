// Alloc/fill/dispatch/release cycles on the workgroup's shared memory across 2 workers, every result
// checked against a checksum computed in main; at the end the shared memory in use is back where it
// started. Counts scale with STRESS_SCALE (default 1: 5,000 cycles; `npm run test:stress` sets 20:
// 100,000 cycles); the seed is printed and STRESS_SEED replays it.
import { describe, expect, it } from 'vitest';
import { launched, lib, within } from '../integration/helpers.js';
import { mainRng, stressScale, stressSeed } from './ring-stress-env.js';

const zcUrl = new URL('../fixtures/zero-copy-work.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const zc = (await import(zcUrl.href)) as any;

const IN_FLIGHT = 64;

describe('arena arrays through dispatch', () => {
  it('every cycle sees the bytes main wrote, and shared memory returns to its start', async () => {
    const seed = stressSeed('arena-dispatch');
    const cycles = Math.round(5000 * stressScale());
    const rng = mainRng(seed);
    const wg = await launched(2, { modules: [zcUrl] });
    try {
      const start = wg.stats().sharedMemory;
      let done = 0;
      let workerAllocated = 0;
      const failures: string[] = [];
      const cycle = async (n: number): Promise<void> => {
        // Sizes from 1 element to 64 Ki elements (small blocks and large runs of segments).
        const r = rng();
        const length = r % 16 === 0 ? 1 + (rng() % 65_536) : 1 + (rng() % 2048);
        const arr = wg.allocate(Int32Array, length);
        let sum = 0;
        for (let i = 0; i < length; i++) {
          const v = rng() | 0;
          arr[i] = v;
          sum = (sum + v) >>> 0;
        }
        const got = (await wg.dispatch(new zc.Checksum(arr))) as number;
        if (got !== sum) failures.push(`cycle ${n}: checksum ${got} != ${sum} (length ${length})`);
        wg.release(arr);
        if (n % 10 === 0) {
          // The other direction: an array the worker allocates, read and released by main.
          const squares = (await wg.dispatch(new zc.Squares(1 + (n % 300)))) as Float64Array;
          if (squares[squares.length - 1] !== (squares.length - 1) ** 2) failures.push(`cycle ${n}: bad worker-allocated result`);
          wg.release(squares);
          workerAllocated++;
        }
        done++;
      };
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < cycles && failures.length === 0) await cycle(next++);
      };
      await within(Promise.all(Array.from({ length: IN_FLIGHT }, lane)), 600_000, `${cycles} cycles`);
      expect(failures).toEqual([]);
      expect(done).toBe(cycles);
      console.log(`[arena-dispatch] ${done} cycles, ${workerAllocated} worker-allocated results; shared memory ${JSON.stringify(wg.stats().sharedMemory)}`);
      const end = wg.stats().sharedMemory;
      expect({ liveBytes: end.liveBytes, liveBlocks: end.liveBlocks }).toEqual({ liveBytes: start.liveBytes, liveBlocks: start.liveBlocks });
      // Every job ran on one of the two workers, and both took part.
      const stats = wg.stats().workers;
      expect(stats.reduce((a, w) => a + w.jobsDone, 0)).toBe(cycles + workerAllocated);
      expect(stats.every((w) => w.jobsDone > 0)).toBe(true);
    } finally {
      await wg.shutdown();
    }
  });
});
