/** What the runner gives every suite. */
import type { LibName } from './pools.js';

export interface SuiteContext {
  /** Tiny counts: proves every suite and library runs and agrees, measures nothing worth reading. */
  readonly smoke: boolean;
  /** Workers per pool (2 unless `--workers`). */
  readonly workers: number;
  /** Libraries to run, in order. */
  readonly libs: readonly LibName[];
  /** Progress line (stderr). */
  log(message: string): void;
}

/** Picks the full-run or the smoke-run count. */
export const pick = <T>(ctx: SuiteContext, full: T, smoke: T): T => (ctx.smoke ? smoke : full);

export function errorMessage(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
