/**
 * `stats()`: per-worker counters and latency histograms read straight from shared memory.
 * Percentiles come from log2 buckets, so they are upper bounds within a factor of two.
 */
import { CB_BUSY_HI, CB_DOORBELL, CB_BUSY_LO, CB_JOBS_DONE, CB_JOBS_FAILED, CB_RUN_HIST, CB_WAIT_HIST, HIST_BUCKETS, controlBase } from '../ring/layout.js';
import type { WorkgroupCore } from '../scheduler/core.js';

export interface LatencySummary {
  readonly count: number;
  readonly p50Micros: number;
  readonly p90Micros: number;
  readonly p99Micros: number;
}

export interface WorkerStats {
  readonly isolateIndex: number;
  readonly label: string;
  readonly state: string;
  readonly jobsDone: number;
  readonly jobsFailed: number;
  /**
   * Times the main thread rang this worker's doorbell (to wake it from sleep, or for a control message or
   * a lane record). Many dispatches in one tick ring a sleeping worker once, not once per job.
   */
  readonly doorbellRings: number;
  readonly busyMillis: number;
  /** Jobs the worker is running right now (its running words in shared memory; can be late by one job). */
  readonly running: number;
  /** Pinned jobs and member calls sent to this worker and not answered yet. */
  readonly laneDepth: number;
  readonly members: number;
  readonly waitLatency: LatencySummary;
  readonly runLatency: LatencySummary;
}

/** The workgroup's shared memory (the arena behind `allocate()` and out-of-band payloads). */
export interface SharedMemoryStats {
  /** Bytes of live blocks, all threads (arrays not yet released, payloads in flight). */
  readonly liveBytes: number;
  readonly liveBlocks: number;
  /** Bytes of shared memory usable now (it grows on demand up to `maxBytes`). */
  readonly committedBytes: number;
  /** `arenaMaxBytes`, metadata included. */
  readonly maxBytes: number;
}

export interface WorkgroupStats {
  /** Jobs waiting in the shared queue and its main-thread backlog. */
  readonly queued: number;
  readonly pending: number;
  readonly workers: readonly WorkerStats[];
  /** Read from shared counters; can be late by the allocations and frees in flight on other threads. */
  readonly sharedMemory: SharedMemoryStats;
}

const NO_SHARED_MEMORY: SharedMemoryStats = { liveBytes: 0, liveBlocks: 0, committedBytes: 0, maxBytes: 0 };

function summarize(i32: Int32Array, base: number): LatencySummary {
  let count = 0;
  const buckets: number[] = [];
  for (let b = 0; b < HIST_BUCKETS; b++) {
    const n = Atomics.load(i32, base + b);
    buckets.push(n);
    count += n;
  }
  const at = (q: number): number => {
    if (count === 0) return 0;
    let seen = 0;
    for (let b = 0; b < HIST_BUCKETS; b++) {
      seen += buckets[b]!;
      if (seen >= q * count) return b === 0 ? 1 : 2 ** b;
    }
    return 2 ** HIST_BUCKETS;
  };
  return { count, p50Micros: at(0.5), p90Micros: at(0.9), p99Micros: at(0.99) };
}

export function readStats(core: WorkgroupCore): WorkgroupStats {
  const workers: WorkerStats[] = [];
  if (!core.launched) return { queued: 0, pending: core.pendingCount, workers, sharedMemory: NO_SHARED_MEMORY };
  const i32 = new Int32Array(core.pool);
  for (const ws of core.workers()) {
    if (!ws.live || ws.index >= core.isolatesCount) continue; // a worker addIsolate() is still starting has no index yet
    const cb = controlBase(ws.slot);
    const busyMicros = Atomics.load(i32, cb + CB_BUSY_HI) * 2 ** 30 + Atomics.load(i32, cb + CB_BUSY_LO);
    workers.push({
      isolateIndex: ws.index,
      label: ws.label,
      state: ws.state,
      jobsDone: Atomics.load(i32, cb + CB_JOBS_DONE),
      jobsFailed: Atomics.load(i32, cb + CB_JOBS_FAILED),
      doorbellRings: Atomics.load(i32, cb + CB_DOORBELL),
      busyMillis: busyMicros / 1000,
      running: ws.runningIds().length,
      laneDepth: ws.laneWork.size,
      members: ws.members.size,
      waitLatency: summarize(i32, cb + CB_WAIT_HIST),
      runLatency: summarize(i32, cb + CB_RUN_HIST),
    });
  }
  const a = core.arena.stats();
  const sharedMemory = { liveBytes: a.liveBytes, liveBlocks: a.liveBlocks, committedBytes: a.committedBytes, maxBytes: a.maxBytes };
  return { queued: core.queuedCount, pending: core.pendingCount, workers, sharedMemory };
}
