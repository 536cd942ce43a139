import { describe, expect, it } from 'vitest';
import { KeepAlive } from '../../src/scheduler/keep-alive.js';
import type { Platform } from '../../src/shared/platform.js';

const node = { name: 'node' } as Platform;

/** Whether the keep-alive timer is ref'd, read from the timers Node reports as keeping the loop alive. */
function refdTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('keep-alive', () => {
  it('keeps the process alive exactly while calls or operations are outstanding', () => {
    let busy = false;
    const base = refdTimers();
    const k = new KeepAlive(node, () => busy);
    expect(refdTimers()).toBe(base); // idle: nothing keeps the process alive
    busy = true;
    k.update();
    expect(refdTimers()).toBe(base + 1);
    busy = false;
    k.update();
    expect(refdTimers()).toBe(base);
    const release = k.hold();
    expect(k.wanted).toBe(true);
    expect(refdTimers()).toBe(base + 1);
    const second = k.hold();
    release();
    release(); // releasing twice counts once
    expect(refdTimers()).toBe(base + 1); // the second hold still keeps it
    second();
    expect(refdTimers()).toBe(base);
    k.close();
  });

  it('during() holds for the whole operation, also when it throws', async () => {
    const k = new KeepAlive(node, () => false);
    let inside = false;
    await k.during(async () => {
      inside = k.wanted;
    });
    expect(inside).toBe(true);
    expect(k.wanted).toBe(false);
    await expect(k.during(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(k.wanted).toBe(false);
    k.close();
  });

  it('after close() nothing keeps the process alive, whatever is held', () => {
    const base = refdTimers();
    const k = new KeepAlive(node, () => true);
    k.update();
    k.close();
    k.hold();
    expect(refdTimers()).toBe(base);
  });

  it('is a no-op in browsers (no timer at all)', () => {
    const base = process.getActiveResourcesInfo().length;
    const k = new KeepAlive({ name: 'browser' } as Platform, () => true);
    k.hold();
    expect(process.getActiveResourcesInfo().length).toBe(base);
    k.close();
  });
});
