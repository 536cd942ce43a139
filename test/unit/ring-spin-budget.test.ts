// The adaptive spin budget of the wait strategies: it doubles when a spin found work late in its budget,
// halves when spinning ended in a park, and always stays within [min, max]; a zero budget stays zero
// (how a caller turns spinning off).
import { describe, expect, it } from 'vitest';
import { SpinBudget } from '../../src/ring/wait.js';

describe('SpinBudget', () => {
  it('clamps the initial value and the bounds', () => {
    expect(new SpinBudget(10, 50, 5000).current).toBe(50);
    expect(new SpinBudget(9000, 50, 5000).current).toBe(5000);
    const inverted = new SpinBudget(100, 500, 200);
    expect([inverted.min, inverted.max, inverted.current]).toEqual([200, 200, 200]);
    expect(new SpinBudget(5, -3, 10).min).toBe(0);
  });

  it('grows on late hits, ignores early hits, shrinks on misses, within [min, max]', () => {
    const b = new SpinBudget(200, 50, 5000);
    b.hit(10); // found work early: the budget is big enough
    expect(b.current).toBe(200);
    b.hit(150); // found work late: grow
    expect(b.current).toBe(400);
    for (let i = 0; i < 10; i++) b.hit(b.current);
    expect(b.current).toBe(5000);
    b.miss(1000);
    expect(b.current).toBe(2500);
    for (let i = 0; i < 20; i++) b.miss(2000 + i * 10); // parks 10 ms apart: spinning was wasted
    expect(b.current).toBe(50);
  });

  it('grows when parks come in quick succession (work arrived just after each spin gave up)', () => {
    const b = new SpinBudget(200, 50, 5000);
    b.miss(0); // first park: nothing to compare with, shrinks
    expect(b.current).toBe(100);
    b.miss(0.4); // parked again 0.4 ms later: the gap between jobs is just past the budget
    expect(b.current).toBe(200);
    for (let i = 1; i <= 10; i++) b.miss(0.4 + i * 0.5);
    expect(b.current).toBe(5000);
    b.miss(100); // a long pause: back down
    expect(b.current).toBe(2500);
  });

  it('a zero budget (spinning off) stays zero', () => {
    const b = new SpinBudget(0, 0, 64);
    b.hit(1);
    b.miss();
    expect(b.current).toBe(0);
  });
});

describe('SpinGate', () => {
  it('lets at most `max` threads spin at once; leave frees a place; enter is idempotent per holder', async () => {
    const { SpinGate } = await import('../../src/ring/wait.js');
    const mask = new Int32Array(new SharedArrayBuffer(8 * 4));
    const a = new SpinGate(mask, 0, 8, 0, 1);
    const b = new SpinGate(mask, 0, 8, 40, 1); // slot 40: a bit of the second word
    expect(a.enter()).toBe(true);
    expect(a.enter()).toBe(true); // already inside: no second place taken
    expect(mask[0]).toBe(1);
    expect(b.enter()).toBe(false); // full: b must park instead of spinning
    expect(mask[1]).toBe(0); // and it took its bit back
    a.leave();
    a.leave(); // leaving twice frees one place only
    expect(mask[0]).toBe(0);
    expect(b.enter()).toBe(true);
    expect(mask[1]).toBe(1 << 8);
    expect(new SpinGate(mask, 0, 8, 3, 0).enter()).toBe(false); // max 0: nobody spins
  });

  it('a place held by a worker that died is given back by clearing its bit, once, whatever instruction it died at', async () => {
    const { SpinGate } = await import('../../src/ring/wait.js');
    const mask = new Int32Array(new SharedArrayBuffer(8 * 4));
    const dead = new SpinGate(mask, 0, 8, 5, 1);
    expect(dead.enter()).toBe(true); // then the thread dies without leave()
    const other = new SpinGate(mask, 0, 8, 6, 1);
    expect(other.enter()).toBe(false);
    // main's repair: clear the dead slot's bit (idempotent: repeating it frees nothing twice)
    Atomics.and(mask, 0, ~(1 << 5));
    Atomics.and(mask, 0, ~(1 << 5));
    expect(other.enter()).toBe(true);
    expect(new SpinGate(mask, 0, 8, 7, 1).enter()).toBe(false); // still one place only
  });
});
