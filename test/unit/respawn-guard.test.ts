import { describe, expect, it } from 'vitest';
import { EARLY_DEATH_MS, RESPAWN_LIMIT, RespawnGuard, isEarlyDeath } from '../../src/scheduler/respawn.js';

const T = 1_000_000;
const death = (over: Partial<{ readyAt: number; now: number; finished: number; running: number }> = {}) => ({
  readyAt: T,
  now: T + 100,
  finished: 0,
  running: 0,
  ...over,
});

describe('isEarlyDeath', () => {
  it('counts a worker that never became ready', () => {
    expect(isEarlyDeath(death({ readyAt: 0 }))).toBe(true);
  });

  it('counts a worker dead soon after ready that finished and ran nothing', () => {
    expect(isEarlyDeath(death())).toBe(true);
    expect(isEarlyDeath(death({ now: T + EARLY_DEATH_MS - 1 }))).toBe(true);
  });

  it('does not count a death while running a job, after finishing one, or after the window', () => {
    expect(isEarlyDeath(death({ running: 1 }))).toBe(false);
    expect(isEarlyDeath(death({ finished: 1 }))).toBe(false);
    expect(isEarlyDeath(death({ now: T + EARLY_DEATH_MS }))).toBe(false);
  });
});

describe('RespawnGuard', () => {
  it('respawns at once after an ordinary crash', () => {
    const g = new RespawnGuard();
    for (let i = 0; i < 10; i++) expect(g.onDeath(death({ running: 1 }))).toEqual({ kind: 'respawn', delayMs: 0 });
    expect(g.streak).toBe(0);
  });

  it(`backs off 100 ms, 200 ms, then gives up at ${RESPAWN_LIMIT} early deaths in a row`, () => {
    const g = new RespawnGuard();
    expect(g.onDeath(death())).toEqual({ kind: 'respawn', delayMs: 100 });
    expect(g.onDeath(death())).toEqual({ kind: 'respawn', delayMs: 200 });
    expect(g.onDeath(death())).toEqual({ kind: 'give-up', earlyDeaths: 3 });
    expect(g.onDeath(death())).toEqual({ kind: 'give-up', earlyDeaths: 4 });
  });

  it('starts afresh after an ordinary death or a reset()', () => {
    const g = new RespawnGuard();
    g.onDeath(death());
    g.onDeath(death());
    expect(g.onDeath(death({ finished: 3 }))).toEqual({ kind: 'respawn', delayMs: 0 });
    expect(g.onDeath(death())).toEqual({ kind: 'respawn', delayMs: 100 });
    g.onDeath(death());
    g.onDeath(death());
    g.reset();
    expect(g.onDeath(death())).toEqual({ kind: 'respawn', delayMs: 100 });
  });
});
