/**
 * Main-thread state of one worker: its public index (never reused), its shared-memory slot (reused after
 * the worker is gone), its lane (the direct ring main writes, the result ring main reads), the handle of
 * its thread, and what it holds (pinned jobs, member calls, members).
 */
import {
  CB_CLAIM_INTENT,
  CB_COMMAND,
  CB_DOORBELL,
  CB_HEARTBEAT,
  CB_JOBS_DONE,
  CB_JOBS_FAILED,
  CB_PARKED,
  CB_PROBE_ACK,
  CB_PROBE_SEQ,
  CB_RUNNING,
  CB_STATE,
  CMD_CONTROL,
  LANE_DIRECT_HEADER,
  LANE_RESULT_HEADER,
  MAX_CONCURRENCY,
  SLOT_I32,
  STATE_DEAD,
  controlBase,
  createLaneRegion,
  laneLayout,
} from '../ring/layout.js';
import { SpscConsumer, SpscProducer } from '../ring/spsc.js';
import type { WorkerHandle } from '../shared/platform.js';

export type SlotState = 'starting' | 'ready' | 'failed' | 'stopping' | 'dead';

/** A record waiting for room in the direct ring (the ring was full). */
export interface LaneBacklogItem {
  readonly type: number;
  readonly bytes: Uint8Array; // header words + encoded value
}

export class WorkerSlot {
  readonly index: number;
  readonly slot: number;
  readonly label: string;
  readonly lane: SharedArrayBuffer;
  readonly direct: SpscProducer;
  readonly results: SpscConsumer;
  readonly #i32: Int32Array;
  readonly #cb: number;
  handle: WorkerHandle | undefined;
  state: SlotState = 'starting';
  /** Ids of pinned jobs and member calls sent through this worker's lane and not settled yet. */
  readonly laneWork = new Set<number>();
  readonly members = new Set<number>();
  /** Members removed by destroyInstance() whose `dispose()` this worker has not answered yet. */
  readonly disposing = new Set<number>();
  readonly backlog: LaneBacklogItem[] = [];
  /** Resolves the `ready` wait of launch/addIsolate. */
  readyWaiter: { resolve(): void; reject(e: unknown): void } | undefined;
  /** Set when the worker's thread has exited. */
  exited = false;
  readonly exitedPromise: Promise<void>;
  #markExited!: () => void;
  /** kill() was called: its work is rejected as killed, no respawn, no communication error. */
  killed = false;
  /** Terminated by the workgroup to replace it (a job ignored its cancel, or it failed its health probes): respawn. */
  replaceOnExit = false;
  /** Why the workgroup terminated it (used in the rejections of the work it held). */
  exitReason: string | undefined;
  /** When it became ready (epoch ms); 0 while it never was. */
  readyAt = 0;
  /** Members whose `setup()` runs in this worker now (the worker may be inside it: busy, not hung). */
  setupsInFlight = 0;
  refs = 0;
  /** Health bookkeeping (main-side). */
  lastKnownGood = Date.now();
  consecutiveFailures = 0;
  confirmedDead = false;
  /** The probe in flight, shared by concurrent callers. */
  probing: Promise<boolean> | undefined;
  /** Sum of the worker's liveness counters when main last looked (see `activity()`). */
  lastActivity = 0;

  constructor(index: number, slot: number, label: string, pool: SharedArrayBuffer, directBytes: number, resultBytes: number) {
    this.index = index;
    this.slot = slot;
    this.label = label;
    this.lane = createLaneRegion(directBytes, resultBytes);
    const layout = laneLayout(directBytes, resultBytes);
    this.direct = new SpscProducer(this.lane, LANE_DIRECT_HEADER, layout.directData, directBytes);
    this.results = new SpscConsumer(this.lane, LANE_RESULT_HEADER, layout.resultData, resultBytes);
    this.#i32 = new Int32Array(pool);
    this.#cb = controlBase(slot);
    this.exitedPromise = new Promise<void>((resolve) => {
      this.#markExited = resolve;
    });
  }

  markExited(): void {
    this.exited = true;
    this.#markExited();
  }

  get live(): boolean {
    return this.state === 'ready' || this.state === 'starting';
  }

  /** Wakes the worker: bump its doorbell; notify only when it says it is parked. */
  wake(): void {
    Atomics.add(this.#i32, this.#cb + CB_DOORBELL, 1);
    if (Atomics.load(this.#i32, this.#cb + CB_PARKED) !== 0) Atomics.notify(this.#i32, this.#cb + CB_DOORBELL, 1);
  }

  /** Tells a worker (possibly parked in Atomics.wait) that a control message waits on its port. */
  signalControl(): void {
    Atomics.or(this.#i32, this.#cb + CB_COMMAND, CMD_CONTROL);
    this.wake();
  }

  command(bits: number): void {
    Atomics.or(this.#i32, this.#cb + CB_COMMAND, bits);
    this.wake();
  }

  /** Asks the worker to answer a probe; returns the sequence number it must echo. */
  requestProbe(): number {
    const seq = Atomics.add(this.#i32, this.#cb + CB_PROBE_SEQ, 1) + 1;
    this.wake();
    return seq;
  }

  probeAck(): number {
    return Atomics.load(this.#i32, this.#cb + CB_PROBE_ACK);
  }

  heartbeat(): number {
    return Atomics.load(this.#i32, this.#cb + CB_HEARTBEAT);
  }

  /**
   * A number that moves whenever the worker shows a sign of life on its own: a loop turn after parking
   * (heartbeat), a probe answered, a job or call finished. Read from shared memory, no round trip.
   */
  activity(): number {
    const i32 = this.#i32;
    const cb = this.#cb;
    return (Atomics.load(i32, cb + CB_HEARTBEAT) + Atomics.load(i32, cb + CB_PROBE_ACK) + Atomics.load(i32, cb + CB_JOBS_DONE) + Atomics.load(i32, cb + CB_JOBS_FAILED)) | 0;
  }

  /** Jobs and calls this worker finished (ok or failed), from its shared counters. */
  finishedCount(): number {
    return Atomics.load(this.#i32, this.#cb + CB_JOBS_DONE) + Atomics.load(this.#i32, this.#cb + CB_JOBS_FAILED);
  }

  /** Its claim intent on the shared queue (−1: none). Frozen once the thread has exited. */
  claimIntent(): number {
    return Atomics.load(this.#i32, this.#cb + CB_CLAIM_INTENT);
  }

  sharedState(): number {
    return Atomics.load(this.#i32, this.#cb + CB_STATE);
  }

  markDeadInSharedMemory(): void {
    Atomics.store(this.#i32, this.#cb + CB_STATE, STATE_DEAD);
  }

  /**
   * Clears the control block after the thread has exited (main only, after recovery read it), so the next
   * worker in this slot starts without stale running, cancel, probe or stats words.
   */
  resetControlBlock(): void {
    const i32 = this.#i32;
    for (let k = 0; k < SLOT_I32; k++) Atomics.store(i32, this.#cb + k, 0);
    Atomics.store(i32, this.#cb + CB_CLAIM_INTENT, -1);
    Atomics.store(i32, this.#cb + CB_STATE, STATE_DEAD);
  }

  /** Job ids in the worker's shared running words (for crash recovery and cancellation). */
  runningIds(): number[] {
    const out: number[] = [];
    for (let r = 0; r < MAX_CONCURRENCY; r++) {
      const id = Atomics.load(this.#i32, this.#cb + CB_RUNNING + r);
      if (id !== 0) out.push(id);
    }
    return out;
  }

  /** Index of the running word holding `id`, or −1. */
  runningSlotOf(id: number): number {
    for (let r = 0; r < MAX_CONCURRENCY; r++) if (Atomics.load(this.#i32, this.#cb + CB_RUNNING + r) === id) return r;
    return -1;
  }

  /**
   * Executing something right now, as the worker itself recorded it (running words) or as main knows it
   * (a member's `setup()` in flight). Work merely waiting in its lane does not count: a hung worker never
   * starts it.
   */
  isExecuting(): boolean {
    if (this.setupsInFlight > 0) return true;
    for (let r = 0; r < MAX_CONCURRENCY; r++) if (Atomics.load(this.#i32, this.#cb + CB_RUNNING + r) !== 0) return true;
    return false;
  }

  isBusy(): boolean {
    for (let r = 0; r < MAX_CONCURRENCY; r++) if (Atomics.load(this.#i32, this.#cb + CB_RUNNING + r) !== 0) return true;
    return this.laneWork.size > 0;
  }

  ref(): void {
    if (this.refs++ === 0) this.handle?.ref();
  }

  unref(): void {
    if (this.refs > 0 && --this.refs === 0) this.handle?.unref();
  }
}
