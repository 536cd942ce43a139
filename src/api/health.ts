/**
 * Health probing (SPEC §3 "Health"). A probe goes through shared memory: main bumps the worker's probe
 * word and doorbell, the worker echoes it at its next loop turn. A worker inside a long job cannot echo,
 * but its running words say it is busy and its thread has not exited: it is reported alive and busy.
 */
import type { WorkgroupCore } from '../scheduler/core.js';
import type { WorkerSlot } from '../scheduler/worker-slot.js';
import { WorkgroupMemberDeadException } from './errors.js';

export interface WorkgroupHealthInfo {
  readonly isolateIndex: number;
  /** Last time the worker answered a probe (or became ready). */
  readonly lastKnownGood: Date;
  readonly consecutiveFailures: number;
  readonly confirmedDead: boolean;
  readonly isHealthy: boolean;
  /** Running a job or call right now (read from shared memory). */
  readonly busy: boolean;
}

const POLL_MS = 1;

export class HealthMonitor {
  readonly #core: WorkgroupCore;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(core: WorkgroupCore) {
    this.#core = core;
  }

  get #cfg() {
    return this.#core.config.health;
  }

  start(): void {
    const cfg = this.#cfg;
    if (!cfg.enabled || cfg.stalenessThresholdMs <= 0 || this.#timer) return;
    const every = Math.max(250, Math.floor(cfg.stalenessThresholdMs / 3));
    this.#timer = setInterval(() => {
      for (const ws of this.#core.workers()) {
        if (ws.state === 'ready' && !ws.confirmedDead && Date.now() - ws.lastKnownGood >= cfg.stalenessThresholdMs / 2) void this.probe(ws.index);
      }
    }, every);
    this.#core.platform.unrefTimer(this.#timer);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #live(index: number): WorkerSlot | undefined {
    if (!Number.isInteger(index)) return undefined;
    const ws = this.#core.worker(index);
    return ws && ws.live && !ws.exited ? ws : undefined;
  }

  /** True when the worker answered, or is alive and busy in a job; false for dead, killed or unknown indices. */
  async probe(index: number): Promise<boolean> {
    const ws = this.#live(index);
    if (!ws || ws.confirmedDead) return false;
    const timeoutMs = this.#cfg.pingTimeoutMs > 0 ? this.#cfg.pingTimeoutMs : 2000;
    const seq = ws.requestProbe();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ws.exited || !ws.live) return false;
      if (ws.probeAck() - seq >= 0 || ws.isBusy()) {
        ws.lastKnownGood = Date.now();
        ws.consecutiveFailures = 0;
        return true;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    ws.consecutiveFailures++;
    const max = this.#cfg.maxConsecutiveFailures;
    if (this.#cfg.enabled && max > 0 && ws.consecutiveFailures >= max && !ws.confirmedDead) {
      ws.confirmedDead = true;
      this.#core.errors.fire('communication', new WorkgroupMemberDeadException(index, `no answer to ${ws.consecutiveFailures} probes in a row: replacing it`), { isolateIndex: index });
      ws.replaceOnExit = true;
      ws.state = 'stopping';
      void ws.handle?.terminate();
    }
    return false;
  }

  isHealthy(index: number): boolean {
    const ws = this.#live(index);
    return ws !== undefined && ws.state === 'ready' && !ws.confirmedDead;
  }

  shouldProbeBeforeDispatch(index: number): boolean {
    const cfg = this.#cfg;
    if (!cfg.enabled || !cfg.checkBeforeDispatching) return false;
    const ws = this.#live(index);
    return ws !== undefined && Date.now() - ws.lastKnownGood > cfg.stalenessThresholdMs;
  }

  async probeThen<T>(index: number, run: () => Promise<T>): Promise<T> {
    if (!(await this.probe(index))) throw new WorkgroupMemberDeadException(index, 'it did not answer a health probe before dispatching');
    return run();
  }

  status(): ReadonlyMap<number, WorkgroupHealthInfo> {
    const out = new Map<number, WorkgroupHealthInfo>();
    if (!this.#cfg.enabled) return out;
    for (const ws of this.#core.workers()) {
      if (!ws.live) continue;
      out.set(ws.index, Object.freeze({
        isolateIndex: ws.index,
        lastKnownGood: new Date(ws.lastKnownGood),
        consecutiveFailures: ws.consecutiveFailures,
        confirmedDead: ws.confirmedDead,
        isHealthy: ws.state === 'ready' && !ws.confirmedDead,
        busy: ws.isBusy(),
      }));
    }
    return out;
  }
}
