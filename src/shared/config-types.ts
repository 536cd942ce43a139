/**
 * Configuration types that both the public api (validation, defaults) and the scheduler read. The
 * validation and the defaults live in src/api/config.ts.
 */

export type StartupPolicy = 'concurrent' | 'sequential';

export interface WorkgroupHealthConfigInit {
  readonly enabled: boolean;
  readonly pingTimeoutMs: number;
  readonly stalenessThresholdMs: number;
  readonly maxConsecutiveFailures: number;
  readonly checkBeforeDispatching: boolean;
}

export interface WorkgroupLogger {
  debug?(message: string, ...rest: unknown[]): void;
  info?(message: string, ...rest: unknown[]): void;
  warn?(message: string, ...rest: unknown[]): void;
  error?(message: string, ...rest: unknown[]): void;
}

/** The validated configuration the scheduler runs with (every option resolved to its value). */
export interface ResolvedConfig {
  readonly modules: readonly string[];
  readonly health: WorkgroupHealthConfigInit;
  readonly startupPolicy: StartupPolicy;
  readonly labelBuilder: (index: number) => string;
  readonly maxQueue: number;
  readonly concurrency: number;
  readonly queueCapacity: number;
  readonly directRingBytes: number;
  readonly resultRingBytes: number;
  readonly arenaInitialBytes: number;
  readonly arenaMaxBytes: number;
  readonly spinIterations: number;
  readonly parkTimeoutMs: number;
  readonly progress: 'coalesce' | 'all';
  readonly respawn: boolean;
  readonly cancelGraceMs: number;
  readonly logger: WorkgroupLogger;
  readonly workerOptions: Readonly<Record<string, unknown>> | undefined;
  readonly maxWorkers: number;
  /** 'await': main-side stack from the caller's await chain, taken on failure; 'eager': captured at every call; 'off'. */
  readonly captureMainStack: 'await' | 'eager' | 'off';
  readonly mainSpinMicros: number;
  readonly maxSpinningWorkers: number;
}
