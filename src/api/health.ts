/**
 * Health (SPEC §3 "Health"): probes through shared memory, passive liveness, confirmation of dead workers.
 *
 * - A probe bumps the worker's probe word and rings its doorbell; the worker echoes the word at its next
 *   loop turn (also from a park: the doorbell wakes it). A worker inside a job cannot turn its loop, but
 *   its running words say so: it is reported alive and busy at once, without a message. A worker that
 *   neither echoes nor runs anything within `pingTimeoutMs` failed the probe.
 * - Passive liveness: the worker's own counters (heartbeat after each park, probe echoes, jobs and calls
 *   finished) are read from shared memory; any movement is proof of life (`lastKnownGood`), so a busy or
 *   idle-but-parking worker is never probed.
 * - A background check (while `enabled`, every `stalenessThresholdMs / 2`, between 100 ms and 10 s)
 *   probes each ready worker that showed no sign of life for `stalenessThresholdMs`.
 * - `maxConsecutiveFailures` failed probes in a row confirm a worker dead: it gets no new work (placement
 *   skips it, pinned work to it rejects), the `communication` handler hears it once, and the workgroup
 *   terminates it and (with `respawn`) replaces it at a new index.
 * - With `checkBeforeDispatching`, a pinned dispatch, an addInstance and an invoke first probe their worker
 *   when it is stale (no sign of life for `stalenessThresholdMs`); a worker that does not answer rejects
 *   that call with WorkgroupMemberDeadException instead of swallowing it.
 *
 * What a probe cannot tell: a thread stuck in a synchronous loop *inside* a job looks like a busy worker
 * (the job's timeout and cancellation deal with that), and a stuck thread that left a running word set
 * (an async job whose timer callback then spins forever) looks busy too.
 */
import type { WorkgroupCore } from '../scheduler/core.js';
import type { WorkerSlot } from '../scheduler/worker-slot.js';
import { WorkgroupMemberDeadException } from './errors.js';

export interface WorkgroupHealthInfo {
  readonly isolateIndex: number;
  /** Last sign of life: a probe answered, a job or call finished, a loop turn (or when it became ready). */
  readonly lastKnownGood: Date;
  /** Probes failed in a row (0 after any sign of life). */
  readonly consecutiveFailures: number;
  /** It failed `maxConsecutiveFailures` probes in a row: no new work, being replaced. */
  readonly confirmedDead: boolean;
  readonly isHealthy: boolean;
  /** Running a job or call (or a member's setup) right now, read from shared memory. */
  readonly busy: boolean;
}

/** Probe timeout when health is disabled (a probe still works, it just never confirms anything dead). */
const DEFAULT_PING_MS = 2000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class HealthMonitor {
  readonly #core: WorkgroupCore;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(core: WorkgroupCore) {
    this.#core = core;
    const cfg = core.config.health;
    if (cfg.enabled && cfg.checkBeforeDispatching) core.preflight = (ws) => this.#preflight(ws);
  }

  get #cfg() {
    return this.#core.config.health;
  }

  get #pingMs(): number {
    return this.#cfg.pingTimeoutMs > 0 ? this.#cfg.pingTimeoutMs : DEFAULT_PING_MS;
  }

  /** Starts the background staleness check (after launch). */
  start(): void {
    const cfg = this.#cfg;
    if (!cfg.enabled || this.#timer) return;
    const every = Math.min(10_000, Math.max(100, Math.floor(cfg.stalenessThresholdMs / 2)));
    this.#timer = setInterval(() => {
      for (const ws of this.#core.workers()) {
        if (ws.state !== 'ready' || ws.confirmedDead || ws.exited) continue;
        if (this.#stale(ws)) void this.#probeSlot(ws);
      }
    }, every);
    this.#core.platform.unrefTimer(this.#timer);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The worker at `index` if it counts (committed by launch/addIsolate, thread not exited). */
  #at(index: number): WorkerSlot | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#core.isolatesCount) return undefined;
    const ws = this.#core.worker(index);
    return ws && !ws.exited ? ws : undefined;
  }

  /** Reads the worker's liveness counters; any movement since the last look is a sign of life. */
  #refresh(ws: WorkerSlot): void {
    const a = ws.activity();
    if (a !== ws.lastActivity) {
      ws.lastActivity = a;
      ws.lastKnownGood = Date.now();
      ws.consecutiveFailures = 0;
    }
  }

  #stale(ws: WorkerSlot): boolean {
    this.#refresh(ws);
    return Date.now() - ws.lastKnownGood > this.#cfg.stalenessThresholdMs;
  }

  /** True when the worker answered, or is alive and busy in a job; false for dead, killed or unknown indices. */
  async probe(index: number): Promise<boolean> {
    const ws = this.#at(index);
    if (!ws || !ws.live || ws.confirmedDead) return false;
    if (ws.state === 'starting') return true; // its thread runs the work modules' setup()
    return this.#core.keepAlive.during(() => this.#probeSlot(ws)); // an awaited probe keeps the process alive
  }

  /** One probe per worker at a time: concurrent callers share it (and count one failure, not several). */
  #probeSlot(ws: WorkerSlot): Promise<boolean> {
    if (!ws.probing) {
      ws.probing = this.#runProbe(ws).finally(() => {
        ws.probing = undefined;
      });
    }
    return ws.probing;
  }

  async #runProbe(ws: WorkerSlot): Promise<boolean> {
    this.#refresh(ws); // snapshot its counters: only movement from here on answers this probe
    const seq = ws.requestProbe();
    const deadline = performance.now() + this.#pingMs;
    for (let n = 0; ; n++) {
      if (ws.exited || !ws.live) return false; // died meanwhile: crash recovery handles it
      if (ws.probeAck() - seq >= 0 || ws.isExecuting()) {
        ws.lastKnownGood = Date.now();
        ws.lastActivity = ws.activity();
        ws.consecutiveFailures = 0;
        return true;
      }
      if (performance.now() >= deadline) break;
      await sleep(n < 4 ? 0 : 1); // a spinning or parked worker answers within microseconds
    }
    if (ws.exited || !ws.live) return false;
    if (ws.activity() !== ws.lastActivity) {
      this.#refresh(ws); // a sign of life during the probe (a job or call finished) still counts
      return true;
    }
    ws.consecutiveFailures++;
    const cfg = this.#cfg;
    const max = cfg.maxConsecutiveFailures;
    if (cfg.enabled && max > 0 && ws.consecutiveFailures >= max && !ws.confirmedDead) this.#confirmDead(ws);
    return false;
  }

  #confirmDead(ws: WorkerSlot): void {
    const n = ws.consecutiveFailures;
    ws.confirmedDead = true; // from here on: no new work (placement skips it, pinned work rejects)
    this.#core.errors.fire(
      'communication',
      new WorkgroupMemberDeadException(ws.index, `it did not answer ${n} health probes in a row (${this.#pingMs} ms each): it gets no new work and is replaced`),
      { isolateIndex: ws.index },
    );
    this.#core.retire(ws, `the worker failed ${n} health probes in a row and was terminated`);
  }

  isHealthy(index: number): boolean {
    const ws = this.#at(index);
    return ws !== undefined && ws.state === 'ready' && !ws.confirmedDead;
  }

  /** checkBeforeDispatching: resolves when `ws` may get work, rejects when it did not answer a probe. */
  #preflight(ws: WorkerSlot): Promise<void> | undefined {
    if (ws.confirmedDead) return Promise.reject(this.#core.resolveIndex(ws.index));
    if (ws.state !== 'ready' || !this.#stale(ws)) return undefined;
    return this.#probeSlot(ws).then((ok) => {
      if (!ok) {
        throw new WorkgroupMemberDeadException(ws.index, `it did not answer a health probe within ${this.#pingMs} ms before it was given work (checkBeforeDispatching)`);
      }
    });
  }

  /** For a dispatch pinned to `index`: is a probe due first? */
  shouldProbeBeforeDispatch(index: number): boolean {
    const cfg = this.#cfg;
    if (!cfg.enabled || !cfg.checkBeforeDispatching) return false;
    const ws = this.#at(index);
    return ws !== undefined && ws.state === 'ready' && !ws.confirmedDead && this.#stale(ws);
  }

  async probeThen<T>(index: number, run: () => Promise<T>): Promise<T> {
    const ws = this.#at(index);
    if (ws) await this.#preflight(ws);
    return run(); // a dead or unknown index: run() rejects with the index error
  }

  status(): ReadonlyMap<number, WorkgroupHealthInfo> {
    const out = new Map<number, WorkgroupHealthInfo>();
    if (!this.#cfg.enabled) return out;
    for (const ws of this.#core.workers()) {
      if (ws.exited || ws.index >= this.#core.isolatesCount || (!ws.live && !ws.confirmedDead)) continue;
      if (ws.state === 'ready' && !ws.confirmedDead) this.#refresh(ws);
      out.set(ws.index, Object.freeze({
        isolateIndex: ws.index,
        lastKnownGood: new Date(ws.lastKnownGood),
        consecutiveFailures: ws.consecutiveFailures,
        confirmedDead: ws.confirmedDead,
        isHealthy: ws.state === 'ready' && !ws.confirmedDead,
        busy: ws.isExecuting(),
      }));
    }
    return out;
  }
}
