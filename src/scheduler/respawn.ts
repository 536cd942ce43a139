/**
 * When to replace a worker that died, and when to stop (docs/architecture.md, "Failure model": a worker that keeps dying at
 * start-up is not respawned in a loop).
 *
 * A death is an *early death* when the worker never became ready, or died within `EARLY_DEATH_MS` of
 * becoming ready without having finished any job or call and without running one at that moment. A job
 * that crashes its worker (`process.exit()`, out of memory) is the job's fault, not the start-up's, so it
 * never counts; a work module whose `setup()` leaves a timer that kills the thread does.
 *
 * Consecutive early deaths back the respawn off (100 ms, 200 ms, ... doubling) and, at `LIMIT`, stop it:
 * the workgroup keeps its remaining workers and says so once through the `communication` handler. A death
 * that is not early resets the streak, and so does an explicit `addIsolate()` by the user (their call).
 */

/** A worker younger than this (since ready) that finished nothing is a start-up casualty. */
export const EARLY_DEATH_MS = 2000;
/** Early deaths in a row after which respawning stops. */
export const RESPAWN_LIMIT = 3;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export interface DeathFacts {
  /** Epoch ms when it became ready; 0 when it never did. */
  readonly readyAt: number;
  /** Epoch ms of the death. */
  readonly now: number;
  /** Jobs and calls it finished. */
  readonly finished: number;
  /** Jobs and calls it was running when it died. */
  readonly running: number;
}

export type RespawnDecision =
  | { readonly kind: 'respawn'; readonly delayMs: number }
  | { readonly kind: 'give-up'; readonly earlyDeaths: number };

export function isEarlyDeath(f: DeathFacts): boolean {
  if (f.readyAt === 0) return true;
  return f.now - f.readyAt < EARLY_DEATH_MS && f.finished === 0 && f.running === 0;
}

export class RespawnGuard {
  #streak = 0;

  /** Early deaths in a row so far. */
  get streak(): number {
    return this.#streak;
  }

  /** Records a death that would be replaced; says whether (and after how long) to respawn. */
  onDeath(facts: DeathFacts): RespawnDecision {
    if (!isEarlyDeath(facts)) {
      this.#streak = 0;
      return { kind: 'respawn', delayMs: 0 };
    }
    this.#streak++;
    if (this.#streak >= RESPAWN_LIMIT) {
      return { kind: 'give-up', earlyDeaths: this.#streak };
    }
    return { kind: 'respawn', delayMs: Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.#streak - 1)) };
  }

  /** The user added a worker on purpose: start counting afresh. */
  reset(): void {
    this.#streak = 0;
  }
}
