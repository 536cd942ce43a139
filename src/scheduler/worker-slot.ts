/**
 * Main-thread state of one worker: its public index (never reused), its shared-memory slot (reused after
 * the worker is gone), its lane (the direct ring main writes, the result ring main reads), the handle of
 * its thread, and what it holds (pinned jobs, member calls, members).
 *
 * Its life: `state` (starting → ready → stopping → dead, or failed when its setup failed) and, once the
 * workgroup decided to end it, one `intent` saying why (kill, replace, shutdown). A worker that dies with
 * no intent crashed. Only the worker registry changes `state` and `intent`.
 */
import { CMD_CONTROL, LANE_DIRECT_HEADER, LANE_RESULT_HEADER, POOL_SPINNER_MASK_I32, STATE_DEAD, createLaneRegion, laneLayout } from '../ring/layout.js';
import { ControlBlock } from '../ring/control-block.js';
import { SpscConsumer, SpscProducer } from '../ring/spsc.js';
import type { WorkerHandle } from '../shared/platform.js';
import type { LaneWriter } from './lane-writer.js';

export type SlotState = 'starting' | 'ready' | 'failed' | 'stopping' | 'dead';

/** Why the workgroup ends a worker: `kill()`, a replacement (ignored cancel, failed probes), or shutdown. */
export type ExitIntent = 'kill' | 'replace' | 'shutdown';

export class WorkerSlot {
  readonly index: number;
  readonly slot: number;
  readonly label: string;
  readonly laneBuffer: SharedArrayBuffer;
  readonly direct: SpscProducer;
  readonly results: SpscConsumer;
  /** Its control block in the pool region (the words both sides share). */
  readonly control: ControlBlock;
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

  constructor(index: number, slot: number, label: string, pool: SharedArrayBuffer, directBytes: number, resultBytes: number) {
    this.index = index;
    this.slot = slot;
    this.label = label;
    this.laneBuffer = createLaneRegion(directBytes, resultBytes);
    const layout = laneLayout(directBytes, resultBytes);
    this.direct = new SpscProducer(this.laneBuffer, LANE_DIRECT_HEADER, layout.directData, directBytes);
    this.results = new SpscConsumer(this.laneBuffer, LANE_RESULT_HEADER, layout.resultData, resultBytes);
    this.control = new ControlBlock(pool, slot);
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
    this.control.ring();
  }

  /** Tells a worker (possibly parked in Atomics.wait) that a control message waits on its port. */
  signalControl(): void {
    this.control.request(CMD_CONTROL);
  }

  command(bits: number): void {
    this.control.request(bits);
  }

  /** Asks the worker to answer a probe; returns the sequence number it must echo. */
  requestProbe(): number {
    return this.control.requestProbe();
  }

  probeAck(): number {
    return this.control.probeAck();
  }

  heartbeat(): number {
    return this.control.heartbeat();
  }

  /**
   * A number that moves whenever the worker shows a sign of life on its own: a loop turn after parking
   * (heartbeat), a probe answered, a job or call finished. Read from shared memory, no round trip.
   */
  activity(): number {
    return this.control.activity();
  }

  /** Jobs and calls this worker finished (ok or failed), from its shared counters. */
  finishedCount(): number {
    return this.control.finished();
  }

  /** Its claim intent on the shared queue (−1: none). Frozen once the thread has exited. */
  claimIntent(): number {
    return this.control.claimIntent();
  }

  sharedState(): number {
    return this.control.state();
  }

  markDeadInSharedMemory(): void {
    this.control.setState(STATE_DEAD);
  }

  /**
   * Clears the control block after the thread has exited (main only, after recovery read it), so the next
   * worker in this slot starts without stale running, cancel, probe or stats words.
   */
  resetControlBlock(): void {
    this.control.reset();
  }

  /** Job ids in the worker's shared running words (for crash recovery and cancellation). */
  runningIds(): number[] {
    return this.control.runningIds();
  }

  /** Index of the running word holding `id`, or −1. */
  runningSlotOf(id: number): number {
    return this.control.runningSlotOf(id);
  }

  /**
   * Executing something right now, as the worker itself recorded it (running words) or as main knows it
   * (a member's `setup()` in flight). Work merely waiting in its lane does not count: a hung worker never
   * starts it.
   */
  isExecuting(): boolean {
    return this.setupsInFlight > 0 || this.control.anyRunning();
  }

  isBusy(): boolean {
    return this.control.anyRunning() || this.laneWork.size > 0;
  }

  /** Tells a running job its caller cancelled it: its `signal` aborts. False when `id` is not running here. */
  signalCancel(id: number): boolean {
    const r = this.control.runningSlotOf(id);
    if (r < 0) return false;
    this.control.setCancel(r, id);
    this.wake();
    return true;
  }

  /**
   * Asks the worker to skip lane work `id` if it has not started it (a cancelled pinned job or member call
   * still in the direct ring): the worker checks its skip words before it starts a lane record. With more
   * cancels in flight than skip words the oldest is overwritten: that work then runs, is told as soon as
   * main sees it running, and its answer is dropped.
   */
  skipLaneWork(id: number): void {
    this.control.addSkip(id);
  }

  /** Clears the spinning-place bit of this worker's slot (after its thread is gone). */
  giveBackSpinPlace(): void {
    Atomics.and(this.control.i32, POOL_SPINNER_MASK_I32 + (this.slot >> 5), ~(1 << (this.slot & 31)));
  }
}
