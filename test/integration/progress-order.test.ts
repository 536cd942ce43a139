// Progress (`this.report`) arrives in order, before the result — for async jobs, under a flood of reports
// (coalesced, never reordered), and for reports that carry big binary payloads (never dropped).
import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib } from './helpers.js';

const zcUrl = new URL('../fixtures/zero-copy-work.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const zc = (await import(zcUrl.href)) as any;

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

/** Collects progress values, then the result, in the order the caller sees them. */
async function timeline(g: InstanceType<typeof lib.IsolateWorkgroup>, job: unknown, isolate?: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const result = await g.dispatch(job as any, { isolate, onProgress: (v) => seen.push(v) });
  seen.push(result);
  return seen;
}

describe('progress order', () => {
  it('an async job: 50 reports across awaits and timers, in order, then the result', async () => {
    wg = await launched(1, { modules: [zcUrl] });
    expect(await timeline(wg, new zc.AsyncSteps(50))).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), 'finished']);
  });

  it('concurrent async jobs on one worker keep their reports apart and in order', async () => {
    wg = await launched(1, { modules: [zcUrl], concurrency: 4 });
    const runs = await Promise.all([0, 1, 2, 3].map(() => timeline(wg!, new zc.AsyncSteps(40))));
    for (const run of runs) expect(run).toEqual([...Array.from({ length: 40 }, (_, i) => i + 1), 'finished']);
  });

  it('100,000 reports as fast as the job can: strictly increasing, the last one always delivered, then the result', async () => {
    wg = await launched(2, { modules: [zcUrl] });
    const [a, b] = await Promise.all([timeline(wg, new zc.Flood(100_000), 0), timeline(wg, new zc.Flood(100_000), 1)]);
    for (const run of [a, b]) {
      expect(run.at(-1)).toBe('finished');
      const reports = run.slice(0, -1) as number[];
      console.log(`[progress flood] delivered ${reports.length} of 100000 reports (the rest coalesced)`);
      expect(reports.length).toBeGreaterThan(0);
      expect(reports.at(-1)).toBe(100_000);
      let increasing = true;
      for (let i = 1; i < reports.length; i++) if (reports[i]! <= reports[i - 1]!) increasing = false;
      expect(increasing).toBe(true);
    }
    // The workgroup is not worse for it: the next job runs normally.
    expect(await timeline(wg, new zc.Flood(50))).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), 'finished']);
  });

  it('reports carrying big binary payloads are never dropped, even when they fill the result ring', async () => {
    wg = await launched(1, { modules: [zcUrl], resultRingBytes: 4096 });
    const run = await timeline(wg, new zc.BigReports(30, 16 * 1024)); // 128 KiB each, out of band
    expect(run.at(-1)).toBe('finished');
    const reports = run.slice(0, -1) as Float64Array[];
    expect(reports.map((r) => r[0])).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(reports.every((r) => r.length === 16 * 1024 && r[16 * 1024 - 1] === r[0])).toBe(true);
    expect(wg.stats().sharedMemory.liveBlocks).toBe(0);
  });
});
