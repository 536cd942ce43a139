/**
 * `WorkgroupHealthConfig` and the value checks the configuration shares with it. A module of its own
 * because it is one of the library's public classes, which the build keeps in one module per thread
 * (dist/classes.js) for every entry: the worker build of the public entry exports it too.
 */
import type { WorkgroupHealthConfigInit } from '../shared/config-types.js';

/** Health probing. Use a preset or give the five fields. */
export class WorkgroupHealthConfig implements WorkgroupHealthConfigInit {
  readonly enabled: boolean;
  readonly pingTimeoutMs: number;
  readonly stalenessThresholdMs: number;
  readonly maxConsecutiveFailures: number;
  readonly checkBeforeDispatching: boolean;

  constructor(init: Partial<WorkgroupHealthConfigInit> = {}) {
    const d = DEFAULT_HEALTH;
    this.enabled = bool('health.enabled', init.enabled ?? d.enabled);
    this.pingTimeoutMs = nonNegative('health.pingTimeoutMs', init.pingTimeoutMs ?? d.pingTimeoutMs);
    this.stalenessThresholdMs = nonNegative('health.stalenessThresholdMs', init.stalenessThresholdMs ?? d.stalenessThresholdMs);
    this.maxConsecutiveFailures = nonNegativeInt('health.maxConsecutiveFailures', init.maxConsecutiveFailures ?? d.maxConsecutiveFailures);
    this.checkBeforeDispatching = bool('health.checkBeforeDispatching', init.checkBeforeDispatching ?? d.checkBeforeDispatching);
    Object.freeze(this);
  }

  /** enabled, 2000 ms ping timeout, 30 s staleness, 2 failures, no check before dispatching. */
  static defaults(): WorkgroupHealthConfig {
    return new WorkgroupHealthConfig(DEFAULT_HEALTH);
  }

  /** Probing off. */
  static disabled(): WorkgroupHealthConfig {
    return new WorkgroupHealthConfig({ enabled: false, pingTimeoutMs: 0, stalenessThresholdMs: 0, maxConsecutiveFailures: 0, checkBeforeDispatching: false });
  }

  /** 500 ms ping timeout, 10 s staleness, 1 failure, check before dispatching. */
  static aggressive(): WorkgroupHealthConfig {
    return new WorkgroupHealthConfig({ enabled: true, pingTimeoutMs: 500, stalenessThresholdMs: 10_000, maxConsecutiveFailures: 1, checkBeforeDispatching: true });
  }

  /** 5 s ping timeout, 2 min staleness, 3 failures. */
  static relaxed(): WorkgroupHealthConfig {
    return new WorkgroupHealthConfig({ enabled: true, pingTimeoutMs: 5000, stalenessThresholdMs: 120_000, maxConsecutiveFailures: 3, checkBeforeDispatching: false });
  }

  toString(): string {
    return (
      `WorkgroupHealthConfig(\n  enabled: ${this.enabled},\n  pingTimeoutMs: ${this.pingTimeoutMs},\n` +
      `  stalenessThresholdMs: ${this.stalenessThresholdMs},\n  maxConsecutiveFailures: ${this.maxConsecutiveFailures},\n` +
      `  checkBeforeDispatching: ${this.checkBeforeDispatching}\n)`
    );
  }
}

export const DEFAULT_HEALTH: WorkgroupHealthConfigInit = {
  enabled: true,
  pingTimeoutMs: 2000,
  stalenessThresholdMs: 30_000,
  maxConsecutiveFailures: 2,
  checkBeforeDispatching: false,
};


export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

export function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`expected \`${name}\` to be a boolean, got ${describe(v)}`);
  return v;
}

export function nonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
    throw new RangeError(`expected \`${name}\` to be a finite number >= 0, got ${describe(v)}`);
  }
  return v;
}

export function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new RangeError(`expected \`${name}\` to be an integer >= 0, got ${describe(v)}`);
  }
  return v;
}
