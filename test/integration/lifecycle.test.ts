import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib, work, workUrl } from './helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

describe('lifecycle', () => {
  it('goes idle -> active -> disposed and counts its workers', async () => {
    wg = new lib.IsolateWorkgroup(2, { modules: [workUrl] });
    expect(wg.state).toBe('idle');
    expect(wg.isolatesCount).toBe(0);
    await wg.launch();
    await expect(wg.ready).resolves.toBeUndefined();
    expect(wg.state).toBe('active');
    expect(wg.isolatesCount).toBe(2);
    expect(wg.liveIsolateCount).toBe(2);
    await wg.shutdown();
    expect(wg.state).toBe('disposed');
    expect(wg.liveIsolateCount).toBe(0);
  });

  it('rejects dispatch before launch() with WorkgroupNotReadyException (a rejection, never a throw)', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [workUrl] });
    const p = wg.dispatch(new work.Add(1, 1));
    await expect(p).rejects.toBeInstanceOf(lib.WorkgroupNotReadyException);
  });

  it('rejects dispatch after shutdown with WorkgroupInactiveException', async () => {
    wg = await launched(1);
    await wg.shutdown();
    await expect(wg.dispatch(new work.Add(1, 1))).rejects.toBeInstanceOf(lib.WorkgroupInactiveException);
    await expect(wg.addInstance(new work.Counter())).rejects.toBeInstanceOf(lib.WorkgroupInactiveException);
  });

  it('rejects a second launch() and a launch() after shutdown', async () => {
    wg = await launched(1);
    await expect(wg.launch()).rejects.toThrow('launch() was already called');
    const other = new lib.IsolateWorkgroup(1, { modules: [workUrl] });
    await other.shutdown();
    await expect(other.launch()).rejects.toBeInstanceOf(lib.WorkgroupInactiveException);
  });

  it('runs a work module setup() once in every worker before it takes work', async () => {
    wg = await launched(3);
    const counts = await Promise.all([0, 1, 2].map((i) => wg!.dispatch(new work.SetupCount(), i)));
    expect(counts).toEqual([1, 1, 1]);
  });

  it('starts workers one after another with startupPolicy sequential', async () => {
    wg = await launched(2, { startupPolicy: 'sequential' });
    await expect(wg.dispatch(new work.WhereAmI(), 1)).resolves.toBe(1);
  });

  it('rejects launch() and ready with WorkgroupSetupException when a setup() fails', async () => {
    wg = new lib.IsolateWorkgroup(2, { modules: [fixture('bad-setup.mjs')] });
    const ready = wg.ready;
    const err = (await wg.launch().catch((e: unknown) => e)) as InstanceType<typeof lib.WorkgroupSetupException>;
    expect(err).toBeInstanceOf(lib.WorkgroupSetupException);
    expect(err.isolateIndex).toBe(0);
    expect(err.message).toContain('setup exploded');
    await expect(ready).rejects.toBeInstanceOf(lib.WorkgroupSetupException);
  });

  it('lets an initialization handler take setup failures instead (launch resolves, failed workers get no work)', async () => {
    wg = new lib.IsolateWorkgroup(2, { modules: [fixture('bad-setup.mjs')] });
    const seen: number[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.initialization, (e) => seen.push((e as InstanceType<typeof lib.WorkgroupSetupException>).isolateIndex));
    await wg.launch();
    expect(seen.sort()).toEqual([0, 1]);
    expect(wg.liveIsolateCount).toBe(0);
  });

  it('fails clearly when a work module starts a workgroup inside a worker', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [fixture('recursive.mjs')] });
    // The main thread imports the module too; the constructor there is fine (main thread), so launch reaches the worker.
    const err = (await wg.launch().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupSetupException);
    expect(err.message).toMatch(/inside a worker|recursively/);
  });

  it('fails with the same explanation when the work module imports the library by its name (the worker build inside workers)', async () => {
    wg = new lib.IsolateWorkgroup(1, { modules: [fixture('recursive-by-name.mjs')] });
    const err = (await wg.launch().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupSetupException);
    expect(err.message).toMatch(/started an IsolateWorkgroup while a worker imported it.*recursively/);
  });

  it('shutdown() rejects queued and running jobs with WorkgroupJobAbortedException', async () => {
    wg = await launched(1);
    const running = wg.dispatch(new work.Sleep(200)).catch((e: unknown) => e);
    const queued = wg.dispatch(new work.Add(1, 1)).catch((e: unknown) => e);
    await wg.shutdown();
    expect(await running).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    expect(await queued).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    expect(wg.pendingCount).toBe(0);
  });

  it('shutdown({ drain: true }) finishes queued work first and refuses new work meanwhile', async () => {
    wg = await launched(1);
    const jobs = [wg.dispatch(new work.Sleep(20)), wg.dispatch(new work.Add(2, 2))];
    const stopping = wg.shutdown({ drain: true });
    await expect(wg.dispatch(new work.Add(1, 1))).rejects.toBeInstanceOf(lib.WorkgroupInactiveException);
    await stopping;
    await expect(Promise.all(jobs)).resolves.toEqual([20, 4]);
  });

  it('supports await using (Symbol.asyncDispose)', async () => {
    let captured: InstanceType<typeof lib.IsolateWorkgroup>;
    {
      await using group = await launched(1);
      captured = group;
      await expect(group.dispatch(new work.Add(1, 1))).resolves.toBe(2);
    }
    expect(captured.state).toBe('disposed');
  });

  it('validates the constructor arguments, naming the option', () => {
    expect(() => new lib.IsolateWorkgroup(-1)).toThrow(RangeError);
    expect(() => new lib.IsolateWorkgroup(-1)).toThrow('`workerCount`');
    expect(() => new lib.IsolateWorkgroup(1, { maxQueue: -3 })).toThrow('expected `maxQueue` to be an integer >= 0, got -3');
    expect(() => new lib.IsolateWorkgroup(1, { startupPolicy: 'lazy' as never })).toThrow(TypeError);
    expect(() => new lib.IsolateWorkgroup(1, { modules: ['./relative.js'] })).toThrow(/absolute URL/);
    expect(() => new lib.IsolateWorkgroup(1, { queueCapacity: 1000 })).toThrow(/power of two/);
    expect(() => new lib.IsolateWorkgroup(1, { bogus: 1 } as never)).toThrow('unknown option `bogus`');
    expect(() => new lib.IsolateWorkgroup(1, { health: { pingTimeoutMs: -1 } })).toThrow(RangeError);
    expect(() => new lib.IsolateWorkgroup(1, { modules: 'work.js' as never })).toThrow('expected `modules` to be an array of URLs');
    expect(() => new lib.IsolateWorkgroup(1, { health: null as never })).toThrow(/expected `health` to be a WorkgroupHealthConfig/);
    expect(() => new lib.IsolateWorkgroup(1, { health: { pingTimeout: 5 } as never })).toThrow('unknown option `health.pingTimeout`');
    expect(() => new lib.IsolateWorkgroup(4, { maxWorkers: 1 })).toThrow('expected `maxWorkers` to be at least the worker count 4, got 1');
    expect(() => new lib.IsolateWorkgroup(1, { logger: { warn: 5 } as never })).toThrow('expected `logger.warn` to be a function, got 5');
    expect(() => new lib.IsolateWorkgroup(1, { workerOptions: [] as never })).toThrow(/workerOptions/);
    expect(() => new lib.IsolateWorkgroup(1, { progress: 'some' as never })).toThrow("expected `progress` to be one of 'coalesce', 'all'");
  });

  it('refuses allocate() after shutdown', async () => {
    wg = await launched(1);
    await wg.shutdown();
    expect(() => wg!.allocate(Float64Array, 4)).toThrow(lib.WorkgroupInactiveException);
  });

  it('a process that launches, works and shuts down exits within 2 s', () => {
    const script = fileURLToPath(fixture('exit-promptly.mjs'));
    const started = Date.now();
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('result 3');
    expect(r.status).toBe(0);
    // The child prints when shutdown() resolved; everything after that is process exit.
    expect(Date.now() - started).toBeLessThan(15_000);
    const exitMs = Number(/exit-after (\d+)/.exec(r.stdout)?.[1] ?? 0);
    expect(exitMs).toBeLessThan(2000);
  });

  it('an idle launched workgroup does not keep the process alive', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(fixture('idle-exit.mjs'))], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('launched');
  });
});

describe('launch failures', () => {
  it('a worker the platform cannot start rejects launch with WorkgroupSetupException, leaves no thread and shuts down cleanly', async () => {
    const wg = new lib.IsolateWorkgroup(1, { modules: [workUrl], workerOptions: { execArgv: ['--no-such-flag-xyz'] } });
    const err = (await wg.launch().catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(lib.WorkgroupSetupException);
    expect(err.message).toMatch(/could not start the worker thread.*workerOptions/);
    expect(wg.liveIsolateCount).toBe(0);
    await wg.shutdown();
  });

  it('after a launch where every worker failed, work is refused clearly (not queued forever) until addIsolate()', async () => {
    const badUrl = new URL('../fixtures/bad-setup.mjs', import.meta.url);
    const { Noop } = (await import(badUrl.href)) as { Noop: new () => InstanceType<typeof lib.WorkgroupJob> };
    const wg = new lib.IsolateWorkgroup(2, { modules: [badUrl] });
    try {
      const launching = wg.launch().catch(() => {});
      const early = wg.dispatch(new Noop()).catch((e: unknown) => e); // queued while launching
      await launching;
      const earlyErr = (await early) as Error;
      expect(earlyErr).toBeInstanceOf(lib.WorkgroupException);
      expect(earlyErr.message).toContain('every worker failed to start');
      const late = (await wg.dispatch(new Noop()).catch((e: unknown) => e)) as Error;
      expect(late).toBeInstanceOf(lib.WorkgroupException);
      expect(late.message).toContain('no worker is running: every worker failed to start');
    } finally {
      await wg.shutdown();
    }
  });
});
