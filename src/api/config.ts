/**
 * Configuration of a workgroup, its defaults and validation. Bad options throw `TypeError`/`RangeError`
 * with one template: "expected `option` to be ..., got ...".
 */

import type { ResolvedConfig, StartupPolicy, WorkgroupHealthConfigInit, WorkgroupLogger } from '../shared/config-types.js';
import type { WorkgroupAutoscaleConfig } from './autoscale.js';
import { unknownOption } from './validate.js';
import { bool, describe, nonNegative, nonNegativeInt, WorkgroupHealthConfig } from './health-config.js';

export { WorkgroupHealthConfig };

export type { ResolvedConfig, StartupPolicy, WorkgroupHealthConfigInit, WorkgroupLogger };


/** Options of `new IsolateWorkgroup(n, config)`; every field is optional. */
export interface WorkgroupConfig {
  /** Work modules every worker imports at start (URLs or URL strings). */
  readonly modules?: ReadonlyArray<URL | string>;
  readonly health?: WorkgroupHealthConfig | Partial<WorkgroupHealthConfigInit>;
  /** Start workers all at once (default) or one after another. */
  readonly startupPolicy?: StartupPolicy;
  /** Thread name of worker `index` (default `workgroup_worker_<index>`). */
  readonly labelBuilder?: (index: number) => string;
  /** Bound on jobs waiting to start; over it `dispatch` rejects with WorkgroupQueueFullException. Default: unbounded. */
  readonly maxQueue?: number;
  /** Jobs from the shared queue one worker runs at once (async jobs overlap). Default 1, at most 16. */
  readonly concurrency?: number;
  /** Slots of the shared job queue (power of two). Default 4096. More jobs wait in a main-thread list. */
  readonly queueCapacity?: number;
  /** Bytes of each worker's main→worker ring (power of two). Default 64 KiB. */
  readonly directRingBytes?: number;
  /** Bytes of each worker's worker→main ring (power of two). Default 256 KiB. */
  readonly resultRingBytes?: number;
  /** Initial and maximum bytes of the shared arena (zero-copy typed arrays). Defaults 4 MiB / 1 GiB. */
  readonly arenaInitialBytes?: number;
  readonly arenaMaxBytes?: number;
  /** Iterations an idle worker polls before it parks (adaptive around this value). Default 2000; 0 parks at once. */
  readonly spinIterations?: number;
  /** Longest a parked worker sleeps before it re-checks on its own (safety net). Default 1000 ms. */
  readonly parkTimeoutMs?: number;
  /**
   * What `this.report()` does when main falls behind (the worker's result ring is ¾ full):
   * `'coalesce'` (default) keeps only the latest waiting report, so reporting never slows the job — every
   * report that is delivered is in order and before the result, the last one always arrives;
   * `'all'` delivers every report: the job waits for room (backpressure).
   */
  readonly progress?: 'coalesce' | 'all';
  /** Replace a worker that crashed, with a new index. Default true. */
  readonly respawn?: boolean;
  /** Grace a cancelled or timed-out running job has to return before its worker is terminated and replaced. Default 1000 ms. */
  readonly cancelGraceMs?: number;
  /** Where the workgroup logs (it prints nothing by default). */
  readonly logger?: WorkgroupLogger;
  /** Node only: options for `new Worker` (resourceLimits, execArgv, env, ...). */
  readonly workerOptions?: Readonly<Record<string, unknown>>;
  /** Slots for concurrently live workers (1..256). Default 256. */
  readonly maxWorkers?: number;
  /**
   * How an error from a worker gets the main-thread side of its stack (`=== Stack trace in main ===`).
   * `true` (default): taken when the call fails, from the chain of `await`s that led to it (V8's async
   * stack traces: `at async main (file:///app/main.js:8:20)`) — free for calls that succeed; callers that
   * use `.then()` instead of `await` get a shorter main section. `'eager'`: the full synchronous stack
   * captured at every dispatch/invoke (2–4 µs per call). `false`: worker side only.
   */
  readonly captureMainStack?: boolean | 'eager';
  /**
   * Microseconds the main thread polls for answers before it waits with `Atomics.waitAsync` (blocking its
   * event loop at most that long each time). Default 50; 0 never polls (lowest CPU, +10–50 µs per round trip).
   */
  readonly mainSpinMicros?: number;
  /**
   * How many idle workers may spin at once (the others sleep at once). Spinning threads beyond the spare
   * cores take the CPU from the main thread and from the worker running a job. Default: half the cores
   * (at least 1).
   */
  readonly maxSpinningWorkers?: number;
  /**
   * Opt-in autoscaling: grow under queue pressure, retire idle workers, between `minWorkers` and
   * `maxWorkers` (`true`: the defaults). Indices stay stable, nothing is lost, members are never moved and
   * a worker holding a member is never retired. Off by default: the worker count stays what you set.
   */
  readonly autoscale?: boolean | WorkgroupAutoscaleConfig;
}


function intIn(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`expected \`${name}\` to be an integer in ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}

function stackMode(v: unknown): 'await' | 'eager' | 'off' {
  if (v === undefined || v === true) return 'await';
  if (v === false) return 'off';
  if (v === 'eager') return 'eager';
  throw new TypeError(`expected \`captureMainStack\` to be true, false or 'eager', got ${describe(v)}`);
}

function oneOf<T extends string>(name: string, v: unknown, values: readonly T[]): T {
  if (!values.includes(v as T)) throw new TypeError(`expected \`${name}\` to be one of ${values.map((x) => `'${x}'`).join(', ')}, got ${describe(v)}`);
  return v as T;
}

function powerOfTwo(name: string, v: unknown, min: number, max: number): number {
  const n = intIn(name, v, min, max);
  if ((n & (n - 1)) !== 0) throw new RangeError(`expected \`${name}\` to be a power of two in ${min}..${max}, got ${n}`);
  return n;
}

const KNOWN = new Set([
  'modules', 'health', 'startupPolicy', 'labelBuilder', 'maxQueue', 'concurrency', 'queueCapacity', 'directRingBytes',
  'resultRingBytes', 'arenaInitialBytes', 'arenaMaxBytes', 'spinIterations', 'parkTimeoutMs', 'progress', 'respawn', 'cancelGraceMs',
  'logger', 'workerOptions', 'maxWorkers', 'captureMainStack', 'mainSpinMicros', 'maxSpinningWorkers', 'autoscale',
]);

const HEALTH_KEYS = new Set(['enabled', 'pingTimeoutMs', 'stalenessThresholdMs', 'maxConsecutiveFailures', 'checkBeforeDispatching']);

export function validateWorkerCount(n: unknown): number {
  return intIn('workerCount', n, 0, 256);
}

export function resolveConfig(config: WorkgroupConfig | undefined, defaultSpin: number, cores = 2, entryModule?: string): ResolvedConfig {
  if (config === undefined) config = {};
  if (config === null || typeof config !== 'object') throw new TypeError(`expected \`config\` to be an object, got ${describe(config)}`);
  for (const key of Object.keys(config)) {
    if (!KNOWN.has(key)) throw unknownOption('the config', key, [...KNOWN]);
  }
  if (!Array.isArray(config.modules ?? [])) throw new TypeError(`expected \`modules\` to be an array of URLs, got ${describe(config.modules)}`);
  const modules = (config.modules ?? []).map((m, i) => {
    if (m instanceof URL) return m.href;
    if (typeof m === 'string') {
      try {
        return new URL(m).href;
      } catch {
        throw new TypeError(`expected \`modules[${i}]\` to be an absolute URL (e.g. new URL('./work.js', import.meta.url)), got ${describe(m)}`);
      }
    }
    throw new TypeError(`expected \`modules[${i}]\` to be a URL or URL string, got ${describe(m)}`);
  });
  const h = config.health;
  if (h !== undefined && !(h instanceof WorkgroupHealthConfig)) {
    if (h === null || typeof h !== 'object' || Array.isArray(h)) {
      throw new TypeError(`expected \`health\` to be a WorkgroupHealthConfig (e.g. WorkgroupHealthConfig.aggressive()) or an object with its fields, got ${describe(h)}`);
    }
    for (const key of Object.keys(h)) {
      if (!HEALTH_KEYS.has(key)) throw unknownOption('the config', `health.${key}`, [...HEALTH_KEYS].map((k) => `health.${k}`));
    }
  }
  const health = h === undefined ? WorkgroupHealthConfig.defaults() : h instanceof WorkgroupHealthConfig ? h : new WorkgroupHealthConfig(h);
  const startupPolicy = config.startupPolicy ?? 'concurrent';
  if (startupPolicy !== 'concurrent' && startupPolicy !== 'sequential') {
    throw new TypeError(`expected \`startupPolicy\` to be 'concurrent' or 'sequential', got ${describe(startupPolicy)}`);
  }
  const labelBuilder = config.labelBuilder ?? ((i: number) => `workgroup_worker_${i}`);
  if (typeof labelBuilder !== 'function') throw new TypeError(`expected \`labelBuilder\` to be a function, got ${describe(labelBuilder)}`);
  const maxQueue = config.maxQueue === undefined ? Infinity : config.maxQueue === Infinity ? Infinity : nonNegativeInt('maxQueue', config.maxQueue);
  const arenaMaxBytes = intIn('arenaMaxBytes', config.arenaMaxBytes ?? 1024 * 1024 * 1024, 1 << 20, 2 ** 32);
  const arenaInitialBytes = intIn('arenaInitialBytes', config.arenaInitialBytes ?? Math.min(4 << 20, arenaMaxBytes), 1 << 16, arenaMaxBytes);
  const logger = config.logger ?? {};
  if (typeof logger === 'object' && logger !== null) {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const fn = (logger as Record<string, unknown>)[level];
      if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`expected \`logger.${level}\` to be a function, got ${describe(fn)}`);
    }
  }
  if (typeof logger !== 'object' || logger === null) throw new TypeError(`expected \`logger\` to be an object with debug/info/warn/error methods, got ${describe(logger)}`);
  const workerOptions = config.workerOptions;
  if (workerOptions !== undefined && (typeof workerOptions !== 'object' || workerOptions === null || Array.isArray(workerOptions))) {
    throw new TypeError(`expected \`workerOptions\` to be an object, got ${describe(workerOptions)}`);
  }
  return {
    modules,
    health,
    startupPolicy,
    labelBuilder,
    maxQueue,
    concurrency: intIn('concurrency', config.concurrency ?? 1, 1, 16),
    queueCapacity: powerOfTwo('queueCapacity', config.queueCapacity ?? 4096, 2, 1 << 20),
    directRingBytes: powerOfTwo('directRingBytes', config.directRingBytes ?? 64 * 1024, 1024, 1 << 30),
    resultRingBytes: powerOfTwo('resultRingBytes', config.resultRingBytes ?? 256 * 1024, 1024, 1 << 30),
    arenaInitialBytes,
    arenaMaxBytes,
    spinIterations: intIn('spinIterations', config.spinIterations ?? defaultSpin, 0, 10_000_000),
    parkTimeoutMs: intIn('parkTimeoutMs', config.parkTimeoutMs ?? 1000, 1, 3_600_000),
    progress: oneOf('progress', config.progress ?? 'coalesce', ['coalesce', 'all'] as const),
    respawn: bool('respawn', config.respawn ?? true),
    cancelGraceMs: nonNegative('cancelGraceMs', config.cancelGraceMs ?? 1000),
    logger,
    workerOptions,
    maxWorkers: intIn('maxWorkers', config.maxWorkers ?? 256, 1, 256),
    captureMainStack: stackMode(config.captureMainStack),
    mainSpinMicros: intIn('mainSpinMicros', config.mainSpinMicros ?? 50, 0, 1_000_000),
    maxSpinningWorkers: intIn('maxSpinningWorkers', config.maxSpinningWorkers ?? Math.max(1, Math.floor(cores / 2)), 0, 256),
    entryModule,
  };
}
