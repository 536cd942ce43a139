/**
 * The work this worker is running, as main sees it in shared memory: 16 running words (one job id each)
 * and the 16 cancel words beside them, in this worker's control block (ring/layout.ts).
 *
 * | word            | writer                      | reader                    | op                   |
 * |-----------------|-----------------------------|---------------------------|----------------------|
 * | CB_RUNNING + k  | this worker: id at start, 0 after its result is published | main (crash recovery, cancel) | Atomics.store |
 * | CB_RUNNING_COUNT| this worker, at each publish | main (stats, placement)  | Atomics.store        |
 * | CB_CANCEL + k   | main: the id to cancel      | this worker (`signal`)    | Atomics.load         |
 *
 * Queue jobs always take a word (at most `concurrency` run at once); lane work (pinned jobs, member
 * calls) takes one when one is free, else runs with none (main knows it from the lane). A word is given
 * back only after the job's result is published (`afterPublish`), so a worker that dies in between
 * leaves its job either delivered or listed as running, never neither.
 */
import type { ControlBlock } from '../ring/control-block.js';
import { MAX_CONCURRENCY } from '../ring/layout.js';
import { Running, type RunServices } from './running.js';

export class RunSlots {
  readonly #control: ControlBlock;
  readonly #services: RunServices;
  /** Publishes written results (the ResultWriter's flush): called when every free word waits for one. */
  readonly #publish: () => void;
  readonly #concurrency: number;
  /** Shared running words in use (index = word). */
  readonly #slots: (Running | undefined)[] = new Array<Running | undefined>(MAX_CONCURRENCY).fill(undefined);
  /** Words freed since the last publish (their results are written, not yet published). */
  readonly #toClear: number[] = [];
  #runningCount = 0;
  #slotsUsed = 0;

  constructor(control: ControlBlock, concurrency: number, services: RunServices, publish: () => void) {
    this.#control = control;
    this.#concurrency = Math.min(concurrency, MAX_CONCURRENCY);
    this.#services = services;
    this.#publish = publish;
  }

  /** Jobs and calls running now (with or without a word). */
  get runningCount(): number {
    return this.#runningCount;
  }

  /** True while another queue job may start (fewer than `concurrency` words in use). */
  get hasRoom(): boolean {
    return this.#slotsUsed < this.#concurrency;
  }

  /** Starts tracking a job or call; takes a shared running word when one is free (always for queue jobs). */
  begin(id: number): Running {
    let r = -1;
    if (this.#slotsUsed < MAX_CONCURRENCY) {
      // A word freed since the last publish still names a job whose result is written but not published:
      // overwriting it would leave that job neither delivered nor listed as running if the thread died now
      // (crash recovery would never settle it). Take another free word; publish first when none is left.
      const slots = this.#slots;
      for (let k = 0; k < MAX_CONCURRENCY; k++) {
        if (slots[k] === undefined && !this.#toClear.includes(k)) {
          r = k;
          break;
        }
      }
      if (r < 0) {
        this.#publish();
        r = slots.indexOf(undefined);
      }
    }
    const running = new Running(this.#services, id, r);
    this.#runningCount++;
    if (r >= 0) {
      this.#slots[r] = running;
      this.#slotsUsed++;
      this.#control.setRunning(r, id);
    }
    return running;
  }

  /** The job's outcome is written (not yet published): its word is cleared at the next publish. */
  end(running: Running): void {
    this.#runningCount--;
    if (running.runSlot >= 0) {
      this.#slots[running.runSlot] = undefined;
      this.#slotsUsed--;
      this.#toClear.push(running.runSlot);
    }
  }

  /** Called right after the result ring's publish: clears the words of the jobs it delivered. */
  afterPublish(): void {
    const control = this.#control;
    for (const r of this.#toClear) control.setRunning(r, 0);
    if (this.#toClear.length !== 0) this.#toClear.length = 0;
    control.setRunningCount(this.#runningCount);
  }

  /** Whether main wrote the id of `running` into its cancel word (work beyond the words: never). */
  isCancelled(running: Running): boolean {
    return running.runSlot >= 0 && this.#control.isCancelled(running.runSlot, running.id);
  }

  /** The job's `this.signal`: aborted when main writes its id into its cancel word. */
  signalFor(running: Running): AbortSignal {
    if (!running.controller) {
      const controller = new AbortController();
      running.controller = controller;
      const control = this.#control;
      const word = running.runSlot;
      const signal = controller.signal;
      const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
      const check = (): boolean => {
        if (!nativeAborted.call(signal) && control.isCancelled(word, running.id)) {
          controller.abort(new DOMException('The job was cancelled by the caller', 'AbortError'));
        }
        return nativeAborted.call(signal) as boolean;
      };
      // `aborted` and `throwIfAborted()` read the shared cancel word, so a synchronous job that polls
      // them sees a cancel without returning to its event loop.
      Object.defineProperty(signal, 'aborted', { get: check, configurable: true });
      Object.defineProperty(signal, 'throwIfAborted', {
        value: () => {
          if (check()) throw signal.reason;
        },
        configurable: true,
      });
    }
    return running.controller.signal;
  }

  /** Aborts the signals of running jobs whose cancel word names them (checked each loop turn while async work runs). */
  pollCancels(): void {
    for (const running of this.#slots) {
      if (running?.controller && this.#control.isCancelled(running.runSlot, running.id)) {
        void running.controller.signal.aborted; // the getter aborts it
      }
    }
  }
}
