/**
 * Main-thread state of one worker: its public index (never reused), its shared-memory slot (reused after
 * the worker is gone), its lane (the direct ring main writes, the result ring main reads), the handle of
 * its thread, and what it holds (pinned jobs, member calls, members).
 *
 * Its life: `state` (starting → ready → stopping → dead, or failed when its setup failed) and, once the
 * workgroup decided to end it, one `intent` saying why (kill, replace, shutdown). A worker that dies with
 * no intent crashed. Only the worker registry changes `state` and `intent`.
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
  CB_CANCEL,
  CB_SKIP,
  SKIP_WORDS,
  POOL_SPINNER_MASK_I32,
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
import type { LaneWriter } from './lane-writer.js';

export type SlotState = 'starting' | 'ready' | 'failed' | 'stopping' | 'dead';

/** Why the workgroup ends a worker: `kill()`, a replacement (ignored cancel, failed probes), or shutdown. */
export type ExitIntent = 'kill' | 'replace' | 'shutdown' | 'retire';

export class WorkerSlot {
  readonly index: number;
  readonly slot: number;
  readonly label: string;
  readonly laneBuffer: SharedArrayBuffer;
  readonly direct: SpscProducer;
  readonly results: SpscConsumer;
  readonly #i32: Int32Array;
  readonly #cb: number;
  handle: WorkerHandle | undefined;
  /** The main → worker half of its lane (set by the registry when it spawns the worker). */
  writer: LaneWriter | undefined;
  state: SlotState = 'starting';
  /** Ids of pinned jobs and member calls sent through this worker's lane and not settled yet. */
  readonly laneWork = new Set<number>();
  readonly members = new Set<number>();
  /** Members removed by destroyInstance() whose `dispose()` this worker has not answered yet. */
  readonly disposing = new Set<number>();
  /** Resolves the `ready` wait of launch/addIsolate. */
  readyWaiter: { resolve(): void; reject(e: unknown): void } | undefined;
  /** Set when the worker's thread has exited (after the exit script ran). */
  exited = false;
  readonly exitedPromise: Promise<void>;
  #markExited!: () => void;
  /** Why the workgroup ends it; undefined while it serves (a death without an intent is a crash). */
  intent: ExitIntent | undefined;
  /** Why the workgroup terminated it (used in the rejections of the work it held). */
  exitReason: string | undefined;
  /** When it became ready (epoch ms); 0 while it never was. */
  readyAt = 0;
  /** Members whose `setup()` runs in this worker now (the worker may be inside it: busy, not hung). */
  setupsInFlight = 0;
  /** Health bookkeeping (main-side). */
  lastKnownGood = Date.now();
  consecutiveFailures = 0;
  confirmedDead = false;
  /** The probe in flight, shared by concurrent callers. */
  probing: Promise<boolean> | undefined;
  /** Sum of the worker's liveness counters when main last looked (see `activity()`). */
  lastActivity = 0;
  /** Cancels of lane work sent to this worker's skip words, round robin (see `skipLaneWork`). */
  #nextSkip = 0;

  constructor(index: number, slot: number, label: string, pool: SharedArrayBuffer, directBytes: number, resultBytes: number) {
    this.index = index;
    this.slot = slot;
    this.label = label;
    this.laneBuffer = createLaneRegion(directBytes, resultBytes);
    const layout = laneLayout(directBytes, resultBytes);
    this.direct = new SpscProducer(this.laneBuffer, LANE_DIRECT_HEADER, layout.directData, directBytes);
    this.results = new SpscConsumer(this.laneBuffer, LANE_RESULT_HEADER, layout.resultData, resultBytes);
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

  /** `kill()` ended it: its work is rejected as killed, no respawn, no communication error. */
  get killed(): boolean {
    return this.intent === 'kill';
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

  /** Tells a running job its caller cancelled it: its `signal` aborts. False when `id` is not running here. */
  signalCancel(id: number): boolean {
    const r = this.runningSlotOf(id);
    if (r < 0) return false;
    Atomics.store(this.#i32, this.#cb + CB_CANCEL + r, id);
    this.wake();
    return true;
  }

  /**
   * Asks the worker to skip lane work `id` if it has not started it (a cancelled pinned job or member call
   * still in the direct ring): the worker checks these words before it starts a lane record. Round robin
   * over SKIP_WORDS words: with more cancels in flight the oldest may be overwritten, and that work then
   * runs and its answer is dropped (main also signals it once it sees it running).
   */
  skipLaneWork(id: number): void {
    const k = this.#nextSkip;
    this.#nextSkip = (k + 1) % SKIP_WORDS;
    Atomics.store(this.#i32, this.#cb + CB_SKIP + k, id);
  }

  /** Clears the spinning-place bit of this worker's slot (after its thread is gone). */
  giveBackSpinPlace(): void {
    Atomics.and(this.#i32, POOL_SPINNER_MASK_I32 + (this.slot >> 5), ~(1 << (this.slot & 31)));
  }
}
