import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer, readArenaLayout, type ArenaHandle } from '../../src/memory/arena.js';
import { HDR_LEN, HDR_STAMP, KIND_CLAIM, KIND_SMALL, STATE_LIVE, STATE_REMOTE, entry, stamp } from '../../src/memory/block.js';
import { ROW_REMOTE_HEAD, SEG_ROW_BYTES, ownerWord } from '../../src/memory/layout.js';

// reclaimOwner in one thread: an Arena for slot 1 plays a worker that "dies" (is simply dropped) with
// blocks in every state. The cross-thread version, with a real terminate(), is in test/stress.

const SEG = 4096;

function setup(segments = 32) {
  const sab = createArenaBuffer({ segmentBytes: SEG, maxOwners: 4, maxBytes: SEG + segments * SEG, initialBytes: 0 });
  return { sab, main: new Arena(sab, 0), worker: new Arena(sab, 1) };
}

describe('arena reclaimOwner', () => {
  it('adopts a dead owner\'s segments: free blocks reused, handed-out blocks stay live', () => {
    const { main, worker } = setup();
    const handedToMain: ArenaHandle[] = [];
    const heldForJob: ArenaHandle[] = [];
    const freedByWorker: ArenaHandle[] = [];
    for (let i = 0; i < 40; i++) {
      const h = worker.alloc(200);
      main.viewOf(h).fill(i + 1);
      (i % 3 === 0 ? handedToMain : i % 3 === 1 ? heldForJob : freedByWorker).push(h);
    }
    for (const h of freedByWorker) worker.free(h); // in the worker's local free lists, lost with it
    const remote = heldForJob.splice(0, 4);
    for (const h of remote) main.free(h); // on the worker's remote-free stack, never drained

    // The worker dies. Main adopts slot 1.
    const report = main.reclaimOwner(1);
    expect(report.segmentsAdopted).toBeGreaterThan(0);
    expect(report.freeBlocksRecovered).toBe(freedByWorker.length);
    expect(report.liveBlocksAdopted).toBe(handedToMain.length + heldForJob.length + remote.length);
    expect(report.remoteFreesDrained).toBe(remote.length);
    expect(report.liveBlocksAttributed).toBe(handedToMain.length + heldForJob.length);
    expect(main.ownerStats(1).state).toBe('reclaimed');

    // Handed-out blocks are intact and stay usable; main frees the job's blocks it knows about.
    handedToMain.forEach((h) => expect(main.viewOf(h)[0]).toBeGreaterThan(0));
    for (const h of heldForJob) main.free(h);
    for (const h of handedToMain) main.free(h);
    expect(main.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
    expect(main.ownerStats(1)).toMatchObject({ liveBlocks: 0, liveBytes: 0 });

    // Freed memory of the dead owner is main's now: all of it gets reused, then given back.
    const reuse = Array.from({ length: 40 }, () => main.alloc(200));
    const deadOffsets = new Set([...handedToMain, ...heldForJob, ...freedByWorker, ...remote].map((h) => h.offset));
    expect(reuse.filter((h) => deadOffsets.has(h.offset)).length).toBe(40);
    for (const h of reuse) main.free(h);
    main.trim();
    expect(main.stats().segmentsInUse).toBe(0);
  });

  it('recycles stale remote frees that reach the dead slot after the reclaim', () => {
    for (const takeOver of [false, true]) {
      const { sab, main, worker } = setup();
      const h = worker.alloc(100);
      main.reclaimOwner(1);
      // A thread that read the segment's owner (slot 1) before the reclaim finishes its free now:
      // LIVE→REMOTE with the generation bumped, then a push onto slot 1's stack (done by hand here).
      const i32 = new Int32Array(sab);
      const hw = (h.offset - 16) / 4;
      expect(Atomics.compareExchange(i32, hw + HDR_STAMP, stamp(h.generation, STATE_LIVE), stamp(h.generation + 1, STATE_REMOTE))).toBe(
        stamp(h.generation, STATE_LIVE),
      );
      Atomics.store(i32, hw + HDR_LEN, 0);
      Atomics.store(i32, ownerWord(1, ROW_REMOTE_HEAD), (h.offset - 16) / 64);
      if (takeOver) {
        // A new worker on slot 1 drains its stack and forwards the block to main, the segment's owner.
        expect(new Arena(sab, 1).collect()).toBe(1);
      }
      expect(main.collect()).toBe(1); // main drains the slot it adopted (or its own stack)
      expect(main.stats().segmentsInUse).toBe(0); // its last block came back: the segment went to the pool
      const again = main.alloc(100);
      expect(again.offset).toBe(h.offset);
      expect(again.generation).toBeGreaterThan(h.generation); // re-carved: continues from the freed stamp
      expect(main.stats().droppedRemoteFrees).toBe(0);
    }
  });

  it('returns segments a dead owner had claimed but not published', () => {
    const { sab, main } = setup();
    const layout = readArenaLayout(sab);
    const i32 = new Int32Array(sab);
    const entryWord = (index: number) => layout.tableWord + (index * SEG_ROW_BYTES) / 4;
    Atomics.store(i32, entryWord(5), entry(KIND_CLAIM, 0, 1)); // died inside claimRun
    Atomics.store(i32, entryWord(6), entry(KIND_CLAIM, 0, 1));
    Atomics.store(i32, entryWord(7), entry(KIND_SMALL, 3, 2)); // another owner: untouched
    const report = main.reclaimOwner(1);
    expect(report.abandonedClaims).toBe(2);
    expect(Atomics.load(i32, entryWord(5))).toBe(0);
    expect(Atomics.load(i32, entryWord(7))).toBe(entry(KIND_SMALL, 3, 2));
  });

  it('leaves a dead owner\'s live large blocks to whoever frees them', () => {
    const { main, worker } = setup();
    const big = worker.alloc(3 * SEG);
    main.viewOf(big).fill(9);
    const before = main.stats().segmentsInUse;
    const report = main.reclaimOwner(1);
    expect(report.liveLargeBlocks).toBe(1);
    expect(main.viewOf(big).every((b) => b === 9)).toBe(true);
    main.free(big);
    expect(main.stats().segmentsInUse).toBe(before - 4);
  });

  it('gives the slot to a new owner, which allocates normally', () => {
    const { sab, main, worker } = setup(8);
    const held = Array.from({ length: 20 }, () => worker.alloc(1000));
    main.reclaimOwner(1);
    const next = new Arena(sab, 1);
    const fresh = next.alloc(1000);
    expect(held.some((h) => h.offset === fresh.offset)).toBe(false);
    for (const h of held) next.free(h); // remote frees to main, which owns those segments now
    expect(main.collect()).toBe(20);
    next.free(fresh);
    expect(main.stats()).toMatchObject({ liveBlocks: 0, liveBytes: 0 });
  });
});
