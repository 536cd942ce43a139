import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer } from '../../src/memory/arena.js';

// Three workers and the main thread allocate from one arena at once. Every block is filled with a
// seeded pattern and its 16-byte units are CAS-claimed in an overlap map while live; 60 % of the
// worker blocks go to the next worker (SPSC queue in a SAB), which verifies and frees them remotely.
// The main thread passes typed arrays by reference that the workers release. At the end nothing is
// live, no overlap or corruption was ever seen, and after reclaiming every slot all segments are free.

interface PatternModule {
  rng(seed: number): () => number;
  patternKey(runSeed: number, slot: number, seq: number): number;
  fillPattern(i32: Int32Array, u8: Uint8Array, offset: number, len: number, key: number): number;
  checkPattern(i32: Int32Array, u8: Uint8Array, offset: number, len: number, key: number): number | null;
  markUnits(units: Uint8Array, offset: number, len: number): number;
  unmarkUnits(units: Uint8Array, offset: number, len: number): void;
  pickSize(next: () => number): number;
}

interface WorkerReport {
  slot: number;
  counts: { allocs: number; localFrees: number; remoteFrees: number; received: number; mainReleased: number };
  firstError: string | null;
}

const scale = Number(process.env.STRESS_SCALE ?? 1);
const seed = Number(process.env.ARENA_SEED ?? (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0);
console.log(`arena cross-thread stress: seed=${seed} scale=${scale} (rerun with ARENA_SEED=${seed} STRESS_SCALE=${scale})`);

const WORKERS = 3;
const QUEUE_CAP = 256;
const QUEUE_WORDS = 32 + 32 + QUEUE_CAP * 8; // head line, tail line, 8-word slots (see the fixture)
const CYCLES = 100_000 * scale;
const C_OVERLAP = 0;
const C_PATTERN = 1;
const C_ERROR = 2;
const C_OPS = 3;

describe('arena across worker threads', () => {
  it(`survives ${CYCLES} alloc/free cycles with remote frees, growth and main-thread arrays`, { timeout: 60_000 * scale }, async () => {
    const p = (await import(new URL('../fixtures/arena-pattern.mjs', import.meta.url).href)) as PatternModule;
    const arenaSab = createArenaBuffer({ segmentBytes: 64 * 1024, maxBytes: 256 * 2 ** 20, maxOwners: 8, initialBytes: 0 });
    const main = new Arena(arenaSab, 0);
    const unitsSab = new SharedArrayBuffer(main.layout.totalBytes / 16);
    const units = new Uint8Array(unitsSab);
    const control = new Int32Array(new SharedArrayBuffer(64 * 4));
    const queueSab = new SharedArrayBuffer(WORKERS * QUEUE_WORDS * 4);
    const i32 = new Int32Array(arenaSab);
    const u8 = new Uint8Array(arenaSab);
    const next = p.rng(seed);

    const perWorker = Math.ceil(CYCLES / WORKERS);
    const workers: Worker[] = [];
    const reports: Promise<WorkerReport>[] = [];
    for (let index = 0; index < WORKERS; index++) {
      // Arrays the main thread fills and hands over by reference; the worker verifies and releases them.
      const mainArrays: Float64Array[] = [];
      for (let k = 0; k < 100; k++) {
        const a = main.allocArray(Float64Array, 1 + (next() % 300));
        expect(p.markUnits(units, a.byteOffset, a.byteLength)).toBe(0);
        for (let j = 0; j < a.length; j++) a[j] = k * 1000 + j;
        mainArrays.push(a);
      }
      const worker = new Worker(new URL('../fixtures/arena-stress-worker.mjs', import.meta.url), {
        workerData: { arenaSab, unitsSab, controlSab: control.buffer, queueSab, queueCap: QUEUE_CAP, index, workers: WORKERS, count: perWorker, runSeed: seed, mainArrays },
      });
      workers.push(worker);
      reports.push(
        new Promise<WorkerReport>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`worker ${index} exited with ${code} before reporting`)));
        }),
      );
    }

    // The main thread allocates and frees alongside the workers until they are done.
    let finished = false;
    const all = Promise.all(reports).finally(() => {
      finished = true;
    });
    let mainCycles = 0;
    while (!finished) {
      const batch: { offset: number; generation: number; len: number; seq: number }[] = [];
      for (let k = 0; k < 20; k++) {
        const len = p.pickSize(next);
        const h = main.alloc(len);
        if (p.markUnits(units, h.offset, len) !== 0) Atomics.add(control, C_OVERLAP, 1);
        p.fillPattern(i32, u8, h.offset, len, p.patternKey(seed, 0, mainCycles));
        batch.push({ ...h, len, seq: mainCycles++ });
      }
      for (const b of batch) {
        if (p.checkPattern(i32, u8, b.offset, b.len, p.patternKey(seed, 0, b.seq)) === null) Atomics.add(control, C_PATTERN, 1);
        p.unmarkUnits(units, b.offset, b.len);
        main.free(b);
      }
      await new Promise((r) => setImmediate(r));
    }
    const results = await all;
    await Promise.all(workers.map((w) => new Promise((r) => (w.threadId === -1 ? r(0) : w.once('exit', r)))));

    const errors = results.map((r) => r.firstError).filter((e) => e !== null);
    expect(errors).toEqual([]);
    expect([Atomics.load(control, C_OVERLAP), Atomics.load(control, C_PATTERN), Atomics.load(control, C_ERROR)]).toEqual([0, 0, 0]);
    const allocs = results.reduce((n, r) => n + r.counts.allocs, 0);
    const frees = results.reduce((n, r) => n + r.counts.localFrees + r.counts.remoteFrees, 0);
    expect(allocs).toBe(perWorker * WORKERS);
    expect(frees).toBe(allocs);
    expect(Atomics.load(control, C_OPS)).toBeGreaterThanOrEqual(CYCLES);
    expect(results.reduce((n, r) => n + r.counts.mainReleased, 0)).toBe(100 * WORKERS);
    console.log(`worker cycles ${allocs}, main cycles ${mainCycles}, remote frees ${results.reduce((n, r) => n + r.counts.remoteFrees, 0)}, committed ${main.stats().committedBytes} bytes`);

    // Nothing live, in any owner's counters.
    expect(main.stats()).toMatchObject({ liveBytes: 0, liveBlocks: 0 });
    for (let slot = 0; slot <= WORKERS; slot++) expect(main.ownerStats(slot)).toMatchObject({ liveBytes: 0, liveBlocks: 0 });
    expect(units.every((u) => u === 0)).toBe(true);

    // The workers exited: adopting their slots returns every segment to the pool.
    for (let slot = 1; slot <= WORKERS; slot++) main.reclaimOwner(slot);
    main.trim();
    expect(main.stats()).toMatchObject({ segmentsInUse: 0, ownedSegments: 0, droppedRemoteFrees: 0 });
  });
});
