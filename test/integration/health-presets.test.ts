import { afterEach, describe, expect, it } from 'vitest';
import { lib } from './helpers.js';
import { launchedFaults } from './fault-helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const fields = (h: InstanceType<typeof lib.WorkgroupHealthConfig>) => ({
  enabled: h.enabled,
  pingTimeoutMs: h.pingTimeoutMs,
  stalenessThresholdMs: h.stalenessThresholdMs,
  maxConsecutiveFailures: h.maxConsecutiveFailures,
  checkBeforeDispatching: h.checkBeforeDispatching,
});

describe('WorkgroupHealthConfig presets', () => {
  it('defaults(): enabled, 2000 ms, 30000 ms, 2 failures, no check before dispatching', () => {
    expect(fields(lib.WorkgroupHealthConfig.defaults())).toEqual({ enabled: true, pingTimeoutMs: 2000, stalenessThresholdMs: 30000, maxConsecutiveFailures: 2, checkBeforeDispatching: false });
    expect(fields(new lib.WorkgroupHealthConfig())).toEqual(fields(lib.WorkgroupHealthConfig.defaults()));
  });

  it('disabled(): false, 0, 0, 0, false', () => {
    expect(fields(lib.WorkgroupHealthConfig.disabled())).toEqual({ enabled: false, pingTimeoutMs: 0, stalenessThresholdMs: 0, maxConsecutiveFailures: 0, checkBeforeDispatching: false });
  });

  it('aggressive(): true, 500, 10000, 1, true', () => {
    expect(fields(lib.WorkgroupHealthConfig.aggressive())).toEqual({ enabled: true, pingTimeoutMs: 500, stalenessThresholdMs: 10000, maxConsecutiveFailures: 1, checkBeforeDispatching: true });
  });

  it('relaxed(): true, 5000, 120000, 3, false', () => {
    expect(fields(lib.WorkgroupHealthConfig.relaxed())).toEqual({ enabled: true, pingTimeoutMs: 5000, stalenessThresholdMs: 120000, maxConsecutiveFailures: 3, checkBeforeDispatching: false });
  });

  it('refuses bad fields with the option name and the value', () => {
    expect(() => new lib.WorkgroupHealthConfig({ pingTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => new lib.WorkgroupHealthConfig({ pingTimeoutMs: -1 })).toThrow('health.pingTimeoutMs');
    expect(() => new lib.WorkgroupHealthConfig({ maxConsecutiveFailures: 1.5 })).toThrow('health.maxConsecutiveFailures');
    expect(() => new lib.WorkgroupHealthConfig({ enabled: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new lib.IsolateWorkgroup(1, { health: { stalenessThresholdMs: Number.NaN } })).toThrow('health.stalenessThresholdMs');
  });

  it('accepts a preset or a plain object in the workgroup config', async () => {
    wg = await launchedFaults(1, { health: lib.WorkgroupHealthConfig.aggressive() });
    expect(wg.healthStatus.get(0)).toMatchObject({ isolateIndex: 0, confirmedDead: false, isHealthy: true });
    await wg.shutdown();
    wg = await launchedFaults(1, { health: { pingTimeoutMs: 100 } });
    expect(wg.healthStatus.get(0)?.isHealthy).toBe(true);
  });

  it('disabled: healthStatus is empty, but probe and isIsolateHealthy still tell the truth', async () => {
    wg = await launchedFaults(2, { health: lib.WorkgroupHealthConfig.disabled() });
    expect(wg.healthStatus.size).toBe(0);
    await expect(wg.probe(0)).resolves.toBe(true);
    await expect(wg.probe(9)).resolves.toBe(false);
    await wg.kill(1);
    await expect(wg.probe(1)).resolves.toBe(false);
    expect(wg.isIsolateHealthy(0)).toBe(true);
    expect(wg.isIsolateHealthy(1)).toBe(false);
    expect(wg.isIsolateHealthy(9)).toBe(false);
  });
});
