/**
 * Error handlers by type (SPEC §3 "Error handlers"). Errors are classified by where they came from, never
 * by their message. A specific handler wins over `all`; a handler that throws is logged, never rethrown.
 */
import type { WorkgroupLogger } from '../shared/config-types.js';

export type IsolateErrorType = 'all' | 'initialization' | 'job' | 'instance' | 'communication' | 'unknown';

export const ISOLATE_ERROR_TYPES: readonly IsolateErrorType[] = ['all', 'initialization', 'job', 'instance', 'communication', 'unknown'];

/** What the handler learns besides the error. */
export interface IsolateErrorInfo {
  readonly type: IsolateErrorType;
  /** Index of the worker involved (−1 when none). */
  readonly isolateIndex: number;
  readonly jobId?: number;
  readonly memberId?: number;
}

/** May be async: a rejected promise is logged, never rethrown. */
export type IsolateErrorHandler = (error: unknown, info: IsolateErrorInfo) => unknown;

export class ErrorRouter {
  readonly #handlers = new Map<IsolateErrorType, IsolateErrorHandler>();
  readonly #logger: WorkgroupLogger;

  constructor(logger: WorkgroupLogger) {
    this.#logger = logger;
  }

  set(type: IsolateErrorType, handler: IsolateErrorHandler): void {
    if (!ISOLATE_ERROR_TYPES.includes(type)) {
      throw new TypeError(`expected \`type\` to be one of ${ISOLATE_ERROR_TYPES.join(', ')} (IsolateErrorType), got ${String(type)}`);
    }
    if (typeof handler !== 'function') throw new TypeError(`expected \`handler\` to be a function, got ${typeof handler}`);
    this.#handlers.set(type, handler);
  }

  remove(type: IsolateErrorType): void {
    this.#handlers.delete(type);
  }

  clear(): void {
    this.#handlers.clear();
  }

  /** True when a handler (specific or `all`) would receive errors of this type. */
  has(type: IsolateErrorType): boolean {
    return this.#handlers.has(type) || this.#handlers.has('all');
  }

  /** Calls the specific handler, or else `all`; exactly one handler per error. */
  fire(type: Exclude<IsolateErrorType, 'all'>, error: unknown, info: Omit<IsolateErrorInfo, 'type'>): void {
    const handler = this.#handlers.get(type) ?? this.#handlers.get('all');
    if (!handler) {
      if (type === 'unknown' || type === 'communication') this.#log('warn', `isolate-workgroup: ${type} error`, error);
      return;
    }
    try {
      const out: unknown = handler(error, { type, ...info });
      // An async handler that rejects must not become an unhandled rejection.
      if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
        (out as PromiseLike<unknown>).then(undefined, (e: unknown) => this.#log('error', `isolate-workgroup: the ${type} error handler rejected`, e));
      }
    } catch (e) {
      this.#log('error', `isolate-workgroup: the ${type} error handler threw`, e);
    }
  }

  /** Logs through the user's logger; a logger that throws is ignored (it must never break the workgroup). */
  #log(level: 'warn' | 'error', message: string, detail: unknown): void {
    try {
      this.#logger[level]?.(message, detail);
    } catch {
      // nothing sensible left to report to
    }
  }
}
