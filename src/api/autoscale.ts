/**
 * The opt-in autoscaling policy (`autoscale` in the config): the workgroup grows under queue pressure and
 * retires idle workers, between `minWorkers` and `maxWorkers`. It is built on the resizing rules of
 * `addIsolate()`/`kill()`:
 *
 * - indices stay stable: a new worker gets `isolatesCount` as its index, a retired index is never reused;
 * - nothing is lost: a worker is retired only when it runs nothing, has no pinned work and no member, and
 *   it is retired cooperatively (told to stop taking work, it finishes any job it had just claimed and
 *   exits by itself; it is never terminated with work in hand), so no job is rejected by a scale-down;
 * - members are never moved, and a worker holding a member is never retired.
 *
 * One sampling timer (unref'd: it never keeps a process alive) reads the queue depth and the per-worker
 * counters from shared memory (`stats()`): no message, no round trip. At most one worker is being
 * started and one retired at a time; a retirement in progress never delays growth.
 */
import type { WorkgroupCore } from '../scheduler/core.js';
import { readStats } from './stats.js';
import { checkOptionsObject, describeGiven } from './validate.js';

/** `autoscale` in the workgroup config. Every field is optional. */
export interface WorkgroupAutoscaleConfig {
  /** Fewest live workers: the policy never retires below it. Default: the initial worker count (at least 1). */
  readonly minWorkers?: number;
  /** Most live workers the policy grows to. Default: the machine's available parallelism (at least minWorkers). */
  readonly maxWorkers?: number;
  /** A worker that ran nothing for this long (and holds no member) is retired. Default 10000 ms. */
  readonly idleTimeoutMs?: number;
  /** Grow while more jobs wait in the queue than this many per live worker. Default 1. */
  readonly queuedPerWorker?: number;
  /** How often the policy samples the queue and the workers, in ms. Default 20. */
  readonly intervalMs?: number;
}

export interface ResolvedAutoscale {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly idleTimeoutMs: number;
  readonly queuedPerWorker: number;
  readonly intervalMs: number;
}

const KEYS = ['minWorkers', 'maxWorkers', 'idleTimeoutMs', 'queuedPerWorker', 'intervalMs'] as const;

function intIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`expected \`autoscale.${name}\` to be an integer in ${min}..${max}, got ${describeGiven(v)}`);
  }
  return v;
}

/**
 * Checks `autoscale` (true, false, undefined or an object) against the initial count, the cores and the
 * slot limit (`maxWorkers` of the config); undefined when the policy is off.
 */
export function resolveAutoscale(v: unknown, initial: number, cores: number, slotLimit: number): ResolvedAutoscale | undefined {
  if (v === undefined || v === false) return undefined;
  const o: Record<string, unknown> = v === true ? {} : (v as Record<string, unknown>);
  if (v !== true) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new TypeError(`expected \`autoscale\` to be true or an object with minWorkers, maxWorkers, idleTimeoutMs…, got ${describeGiven(v)}`);
    }
    checkOptionsObject('the `autoscale` config', v, KEYS);
  }
  const minWorkers = intIn('minWorkers', o['minWorkers'] ?? Math.max(1, Math.min(initial, slotLimit)), 0, slotLimit);
  const maxWorkers = intIn('maxWorkers', o['maxWorkers'] ?? Math.min(slotLimit, Math.max(cores, minWorkers, 1)), Math.max(1, minWorkers), slotLimit);
  if (initial > maxWorkers) throw new RangeError(`expected the worker count ${initial} to be at most \`autoscale.maxWorkers\` ${maxWorkers}`);
  return {
    minWorkers,
    maxWorkers,
    idleTimeoutMs: intIn('idleTimeoutMs', o['idleTimeoutMs'] ?? 10_000, 0, 2 ** 31 - 1),
    queuedPerWorker: intIn('queuedPerWorker', o['queuedPerWorker'] ?? 1, 0, 1_000_000),
    intervalMs: intIn('intervalMs', o['intervalMs'] ?? 20, 1, 60_000),
  };
}

export class Autoscaler {
  readonly #core: WorkgroupCore;
  readonly #policy: ResolvedAutoscale;
  readonly #add: () => Promise<number>;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Per worker index: when it was last seen doing anything, and its finished-job count then. */
  readonly #seen = new Map<number, { at: number; finished: number }>();
  /** A worker being started; growth waits for it (workers start one after another anyway). */
  #adding: Promise<unknown> | undefined;
  /** A worker asked to stop and not exited yet; retiring waits for it, growth does not. */
  #retiring: Promise<unknown> | undefined;
  /** Starts that failed in a row, and when the next may be tried (backing off: a broken setup is not retried every tick). */
  #addFailures = 0;
  #nextAddAt = 0;

  constructor(core: WorkgroupCore, policy: ResolvedAutoscale, add: () => Promise<number>) {
    this.#core = core;
    this.#policy = policy;
    this.#add = add;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#policy.intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
    this.#tick();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const core = this.#core;
    if (core.state !== 'active') return this.stop();
    if (this.#adding) return; // one start at a time
    const now = Date.now();
    const stats = readStats(core);
    const p = this.#policy;
    const live = stats.workers.filter((w) => w.state === 'ready');
    const liveCount = core.liveIsolateCount;
    const present = new Set(stats.workers.map((w) => w.isolateIndex));
    for (const index of this.#seen.keys()) if (!present.has(index)) this.#seen.delete(index); // gone: killed, crashed, retired
    for (const w of stats.workers) {
      const finished = w.jobsDone + w.jobsFailed;
      const last = this.#seen.get(w.isolateIndex);
      const active = w.running > 0 || w.laneDepth > 0 || w.members > 0;
      if (!last || active || last.finished !== finished) this.#seen.set(w.isolateIndex, { at: now, finished });
    }
    // Grow: more jobs wait than the live workers hold.
    if (liveCount < p.maxWorkers && stats.queued > p.queuedPerWorker * liveCount) {
      if (now < this.#nextAddAt) return;
      this.#adding = this.#add()
        .then(
          () => (this.#addFailures = 0),
          (e: unknown) => {
            // The worker was rolled back; say why (the `initialization` handler), and wait longer each time.
            this.#addFailures++;
            this.#nextAddAt = Date.now() + Math.min(30_000, 100 * 2 ** Math.min(this.#addFailures, 9));
            if (core.state === 'active') core.errors.fire('initialization', e, { isolateIndex: -1 });
          },
        )
        .finally(() => (this.#adding = undefined));
      return;
    }
    if (this.#retiring || liveCount <= p.minWorkers || stats.queued > 0) return;
    // Retire the worker idle longest (ties: the highest index), once it has been idle idleTimeoutMs.
    let pick: { index: number; at: number } | undefined;
    for (const w of live) {
      const seen = this.#seen.get(w.isolateIndex)!;
      if (w.running > 0 || w.laneDepth > 0 || w.members > 0 || now - seen.at < p.idleTimeoutMs) continue;
      if (!pick || seen.at < pick.at || (seen.at === pick.at && w.isolateIndex > pick.index)) pick = { index: w.isolateIndex, at: seen.at };
    }
    if (!pick) return;
    const ws = core.worker(pick.index);
    if (ws && core.retireIdle(ws)) {
      this.#seen.delete(pick.index);
      this.#retiring = ws.exitedPromise.finally(() => (this.#retiring = undefined));
    }
  }
}
