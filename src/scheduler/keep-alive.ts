/**
 * Process lifetime (Node): the workgroup keeps the process alive exactly while something the user awaits is
 * outstanding — a call in the pending table, or an operation in progress (launch, addIsolate, kill,
 * addInstance, destroyInstance, a health probe, shutdown, a notification being answered). An idle
 * workgroup never keeps it alive.
 *
 * This is the only code that decides it. Worker threads are always unref'd (their messages and exit events
 * are still delivered while the process runs); what keeps the process alive is one ref'd interval timer
 * that never fires its callback usefully, toggled with `ref()`/`unref()`. A pending `Atomics.waitAsync`
 * does not keep Node alive, and a worker handle cannot cover the time when no worker exists (the last one
 * killed, the first one starting), which is why it is a timer. Browsers have no such notion: no-op.
 */
import type { Platform } from '../shared/platform.js';

/** Long enough never to fire in practice, short enough for every platform's timer range. */
const KEEP_ALIVE_PERIOD_MS = 2 ** 30;

interface RefTimer {
  ref(): unknown;
  unref(): unknown;
}

export class KeepAlive {
  #holds = 0;
  #busy: () => boolean;
  #timer: RefTimer | undefined;
  #interval: ReturnType<typeof setInterval> | undefined;
  #refd = false;
  #closed = false;

  /** `busy` tells whether calls are outstanding (the pending table); holds add operations in progress. */
  constructor(platform: Platform, busy: () => boolean) {
    this.#busy = busy;
    if (platform.name === 'node') {
      this.#interval = setInterval(() => undefined, KEEP_ALIVE_PERIOD_MS);
      const t = this.#interval as unknown as Partial<RefTimer>;
      if (typeof t.ref === 'function' && typeof t.unref === 'function') {
        this.#timer = t as RefTimer;
        this.#timer.unref();
      }
    }
  }

  /** True while the workgroup has something outstanding (calls or operations). */
  get wanted(): boolean {
    return this.#holds > 0 || this.#busy();
  }

  /** Keeps the process alive until the returned function is called (once; later calls do nothing). */
  hold(): () => void {
    this.#holds++;
    this.update();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.update();
    };
  }

  /** Runs `op` under a hold. */
  async during<T>(op: () => Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await op();
    } finally {
      release();
    }
  }

  /** Re-evaluates (called when the pending table becomes empty or non-empty). */
  update(): void {
    const want = !this.#closed && this.wanted;
    if (want === this.#refd || this.#timer === undefined) return;
    this.#refd = want;
    if (want) this.#timer.ref();
    else this.#timer.unref();
  }

  /** After shutdown: the timer is gone for good. */
  close(): void {
    this.#closed = true;
    this.#refd = false;
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#timer = undefined;
  }
}
