import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib, within, work } from './helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('members', () => {
  it('keeps state across calls and resolves addInstance after setup() ran', async () => {
    wg = await launched(2);
    const counter = await wg.addInstance(new work.Counter(10));
    await expect(counter.invoke(new work.Increment())).resolves.toBe(11);
    await expect(counter.invoke(new work.Increment(5))).resolves.toBe(16);
    await expect(counter.invoke(new work.Get())).resolves.toMatchObject({ count: 16, setupRan: true, where: counter.isolateIndex });
  });

  it('names the worker of a member isolateIndex, like everywhere else; workerIndex stays as an alias', async () => {
    wg = await launched(2);
    const a = await wg.addInstance(new work.Counter(), { isolate: 1 });
    expect(a.isolateIndex).toBe(1);
    expect(a.workerIndex).toBe(1);
    expect(Object.keys(a)).toEqual(['memberId', 'isolateIndex']); // the alias is a getter, not a second field
  });

  it('matches 50 concurrent invokes on one member by id', async () => {
    wg = await launched(2);
    const counter = await wg.addInstance(new work.Counter());
    const results = await Promise.all(Array.from({ length: 50 }, () => counter.invoke(new work.SlowIncrement(1))));
    expect([...(results as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('places 100 members on 4 workers at most one apart (fewest members first, ties to the lowest index)', async () => {
    wg = await launched(4);
    const proxies = [];
    for (let i = 0; i < 100; i++) proxies.push(await wg.addInstance(new work.Counter()));
    const per = [0, 0, 0, 0];
    for (const p of proxies) per[p.isolateIndex]!++;
    expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
    expect(proxies.slice(0, 4).map((p) => p.isolateIndex)).toEqual([0, 1, 2, 3]);
    expect(wg.memberCount).toBe(100);
  });

  it('places a member on an explicit worker', async () => {
    wg = await launched(3);
    const m = await wg.addInstance(new work.Counter(), { isolate: 2 });
    expect(m.isolateIndex).toBe(2);
    await expect(m.invoke(new work.Get())).resolves.toMatchObject({ where: 2 });
  });

  it('answers notifyHost through a sync or an async onNotify', async () => {
    wg = await launched(1);
    const syncM = await wg.addInstance(new work.Counter(), { onNotify: (cmd: { question: string }) => `sync:${cmd.question}` });
    await expect(syncM.invoke(new work.Ask('hi'))).resolves.toBe('sync:hi');
    const asyncM = await wg.addInstance(new work.Counter(), {
      onNotify: async (cmd: { question: string }) => {
        await new Promise((r) => setTimeout(r, 5));
        return `async:${cmd.question}`;
      },
    });
    await expect(asyncM.invoke(new work.Ask('there'))).resolves.toBe('async:there');
  });

  it('rejects notifyHost clearly when the member has no onNotify (never hangs)', async () => {
    wg = await launched(1);
    const m = await wg.addInstance(new work.Counter());
    await expect(m.invoke(new work.Ask('anyone?'))).rejects.toThrow(/no onNotify handler/);
  });

  it('notifyHost without onNotify: a real WorkgroupException in the worker, and in main when the member lets it through', async () => {
    wg = await launched(1);
    const m = await wg.addInstance(new work.Counter());
    const err = (await m.invoke(new work.Ask('x')).catch((e: unknown) => e)) as InstanceType<typeof lib.WorkgroupException>;
    expect(err).toBeInstanceOf(lib.WorkgroupException);
    expect(err.name).toBe('WorkgroupException');
    expect(err.code).toBe('ERR_WORKGROUP');
    expect(err.message).toMatch(/no onNotify handler/);
    expect(err.stack).toContain('Stack trace in main');
    await expect(m.invoke(new work.AskCatching('y'))).resolves.toEqual({
      isWorkgroupException: true,
      name: 'WorkgroupException',
      code: 'ERR_WORKGROUP',
      message: expect.stringMatching(/no onNotify handler: pass \{ onNotify/),
    });
  });

  it('a notifyHost() refused in the worker (unsendable command) leaves the worker able to wait for async work', async () => {
    // A long park timeout: a worker that wrongly blocks in Atomics.wait would not run the job's callback.
    wg = await launched(1, { parkTimeoutMs: 60_000 });
    const m = await wg.addInstance(new work.Counter());
    await expect(m.invoke(new work.NotifyUnsendable())).resolves.toMatch(/^command\.f is a function/);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const job = wg.dispatch(new work.AwaitSharedFlag(flag));
    job.catch(() => {});
    await new Promise((r) => setTimeout(r, 200)); // let the worker start the job and go idle
    Atomics.store(flag, 0, 7);
    Atomics.notify(flag, 0);
    await expect(within(job, 10_000, 'a job awaiting Atomics.waitAsync')).resolves.toBe(7);
  });

  it('rejects with the member error class and routes it to the instance handler once', async () => {
    wg = await launched(1);
    const seen: string[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.instance, (e, info) => seen.push(`${info.type}:${(e as Error).message}`));
    const m = await wg.addInstance(new work.Counter());
    const err = await m.invoke(new work.Fail()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(work.ValidationError);
    expect((err as { field: string }).field).toBe('count');
    expect(seen).toEqual(['instance:member failed']);
  });

  it('rejects addInstance when the member setup() throws, and the workgroup stays usable', async () => {
    wg = await launched(1);
    await expect(wg.addInstance(new work.FailingSetupMember())).rejects.toThrow('member setup failed');
    expect(wg.memberCount).toBe(0);
    await expect(wg.dispatch(new work.Add(1, 1))).resolves.toBe(2);
  });

  it('destroyInstance awaits dispose() and rejects the member’s pending invokes', async () => {
    wg = await launched(1);
    const tracker = await wg.addInstance(new work.DisposeTracker());
    await wg.destroyInstance(tracker);
    await expect(wg.dispatch(new work.ReadDisposed())).resolves.toBe(1);
    await expect(tracker.invoke({})).rejects.toBeInstanceOf(lib.WorkgroupMemberNotFoundException);
    const counter = await wg.addInstance(new work.Counter());
    const slow = counter.invoke(new work.SlowIncrement(1)).catch((e: unknown) => e);
    await wg.destroyInstance(counter);
    expect(await slow).toBeInstanceOf(lib.WorkgroupMemberNotFoundException);
    expect(wg.memberCount).toBe(0);
  });

  it('refuses to destroy a proxy it does not know', async () => {
    wg = await launched(1);
    await expect(wg.destroyInstance({} as never)).rejects.toBeInstanceOf(lib.WorkgroupMemberNotFoundException);
  });
});
