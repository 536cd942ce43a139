/**
 * One worker slot's control block (the words listed in layout.ts, "Worker control block"), as one view
 * both sides use: the main thread (scheduler/worker-slot.ts) and the worker (workers/*). Each method says
 * which side calls it; every access is an `Atomics` operation on the pool region.
 */
import {
  CB_CANCEL,
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
  CB_RUNNING_COUNT,
  CB_SKIP,
  CB_STATE,
  MAX_CONCURRENCY,
  SKIP_WORDS,
  SLOT_I32,
  STATE_DEAD,
  controlBase,
} from './layout.js';

export class ControlBlock {
  readonly i32: Int32Array;
  /** Index (in `i32`) of the block's first word. */
  readonly base: number;
  /** The doorbell word's index: what a parked worker waits on. */
  readonly doorbellIndex: number;
  #nextSkip = 0;

  constructor(pool: SharedArrayBuffer | Int32Array, slot: number) {
    this.i32 = pool instanceof Int32Array ? pool : new Int32Array(pool);
    this.base = controlBase(slot);
    this.doorbellIndex = this.base + CB_DOORBELL;
  }

  // ---------------------------------------------------------------- doorbell, parking, commands

  /** Either side: bumps the doorbell; notifies only when the worker said it is parked (or `always`). */
  ring(always = false): void {
    Atomics.add(this.i32, this.doorbellIndex, 1);
    if (always || Atomics.load(this.i32, this.base + CB_PARKED) !== 0) Atomics.notify(this.i32, this.doorbellIndex, 1);
  }

  /** Worker: the doorbell's value before it parks (it waits for a change). */
  doorbell(): number {
    return Atomics.load(this.i32, this.doorbellIndex);
  }

  /** Worker: says it is parked (main then notifies when it rings). */
  setParked(parked: boolean): void {
    Atomics.store(this.i32, this.base + CB_PARKED, parked ? 1 : 0);
  }

  /** Main (and the browser platform): asks the worker for something at its next turn (CMD_* bits), and rings. */
  request(bits: number): void {
    Atomics.or(this.i32, this.base + CB_COMMAND, bits);
    this.ring();
  }

  /** Worker: the commands waiting (without taking them). */
  commands(): number {
    return Atomics.load(this.i32, this.base + CB_COMMAND);
  }

  /** Worker: takes the commands waiting. */
  takeCommands(): number {
    const cmd = Atomics.load(this.i32, this.base + CB_COMMAND);
    if (cmd !== 0) Atomics.and(this.i32, this.base + CB_COMMAND, ~cmd);
    return cmd;
  }

  /** Either side: withdraws command bits not taken yet. */
  withdraw(bits: number): void {
    Atomics.and(this.i32, this.base + CB_COMMAND, ~bits);
  }

  // ---------------------------------------------------------------- state, liveness, probes

  state(): number {
    return Atomics.load(this.i32, this.base + CB_STATE);
  }

  /** Worker (main writes DEAD once the thread is gone). */
  setState(state: number): void {
    Atomics.store(this.i32, this.base + CB_STATE, state);
  }

  /** Worker: one loop turn after a park. */
  beat(): void {
    Atomics.add(this.i32, this.base + CB_HEARTBEAT, 1);
  }

  heartbeat(): number {
    return Atomics.load(this.i32, this.base + CB_HEARTBEAT);
  }

  /** Main: asks for a probe answer; returns the sequence number the worker must echo. */
  requestProbe(): number {
    const seq = Atomics.add(this.i32, this.base + CB_PROBE_SEQ, 1) + 1;
    this.ring();
    return seq;
  }

  /** Worker: the probe asked for last. */
  probeSeq(): number {
    return Atomics.load(this.i32, this.base + CB_PROBE_SEQ);
  }

  /** Worker: answers probe `seq`. */
  ackProbe(seq: number): void {
    Atomics.store(this.i32, this.base + CB_PROBE_ACK, seq);
  }

  probeAck(): number {
    return Atomics.load(this.i32, this.base + CB_PROBE_ACK);
  }

  /** Worker: a job or call finished (ok or failed). */
  countFinished(ok: boolean): void {
    Atomics.add(this.i32, this.base + (ok ? CB_JOBS_DONE : CB_JOBS_FAILED), 1);
  }

  finished(): number {
    return Atomics.load(this.i32, this.base + CB_JOBS_DONE) + Atomics.load(this.i32, this.base + CB_JOBS_FAILED);
  }

  /** Main: moves whenever the worker shows a sign of life on its own (heartbeat, probe answer, work finished). */
  activity(): number {
    return (this.heartbeat() + this.probeAck() + this.finished()) | 0;
  }

  /** Its claim intent on the shared queue (−1: none); written by the worker's JobQueueConsumer. */
  claimIntent(): number {
    return Atomics.load(this.i32, this.base + CB_CLAIM_INTENT);
  }

  // ---------------------------------------------------------------- running, cancel and skip words

  /** Worker: records `id` as running in word `r` (0: the word is free again). */
  setRunning(r: number, id: number): void {
    Atomics.store(this.i32, this.base + CB_RUNNING + r, id);
  }

  /** Worker: how many jobs and calls run (for stats and placement). */
  setRunningCount(n: number): void {
    Atomics.store(this.i32, this.base + CB_RUNNING_COUNT, n);
  }

  runningCount(): number {
    return Atomics.load(this.i32, this.base + CB_RUNNING_COUNT);
  }

  /** Main: the ids in the running words. */
  runningIds(): number[] {
    const out: number[] = [];
    for (let r = 0; r < MAX_CONCURRENCY; r++) {
      const id = Atomics.load(this.i32, this.base + CB_RUNNING + r);
      if (id !== 0) out.push(id);
    }
    return out;
  }

  /** Main: the running word holding `id`, or −1. */
  runningSlotOf(id: number): number {
    for (let r = 0; r < MAX_CONCURRENCY; r++) if (Atomics.load(this.i32, this.base + CB_RUNNING + r) === id) return r;
    return -1;
  }

  anyRunning(): boolean {
    for (let r = 0; r < MAX_CONCURRENCY; r++) if (Atomics.load(this.i32, this.base + CB_RUNNING + r) !== 0) return true;
    return false;
  }

  /** Main: tells the job in running word `r` (still `id`) that its caller cancelled it. */
  setCancel(r: number, id: number): void {
    Atomics.store(this.i32, this.base + CB_CANCEL + r, id);
  }

  /** Worker: true when main cancelled `id`, which runs in word `r`. */
  isCancelled(r: number, id: number): boolean {
    return r >= 0 && Atomics.load(this.i32, this.base + CB_CANCEL + r) === id;
  }

  /** Main: asks the worker to skip lane work `id` if it has not started it (round robin over the skip words). */
  addSkip(id: number): void {
    const k = this.#nextSkip;
    this.#nextSkip = (k + 1) % SKIP_WORDS;
    Atomics.store(this.i32, this.base + CB_SKIP + k, id);
  }

  /** Worker: true (and the word cleared) when main asked to skip lane work `id`. */
  takeSkip(id: number): boolean {
    for (let k = 0; k < SKIP_WORDS; k++) {
      const at = this.base + CB_SKIP + k;
      if (Atomics.load(this.i32, at) === id && Atomics.compareExchange(this.i32, at, id, 0) === id) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- after the thread is gone

  /** Main: clears the block (after recovery read it), so the next worker in this slot starts clean. */
  reset(): void {
    for (let k = 0; k < SLOT_I32; k++) Atomics.store(this.i32, this.base + k, 0);
    Atomics.store(this.i32, this.base + CB_CLAIM_INTENT, -1);
    Atomics.store(this.i32, this.base + CB_STATE, STATE_DEAD);
  }
}
