// Every worker index and every per-call option is checked like the constructor's config, before anything
// is sent: a named option, what was given, a did-you-mean for a typo; -1 is refused everywhere.
import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib, work } from './helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

const minusOne = /^Invalid isolate index -1\. Valid indices are 0\.\.\.1 \(leave the index out to run on whichever worker is free/;

describe('worker indices are validated the same way everywhere', () => {
  it('refuses -1 in dispatch(job, -1), { isolate: -1 }, addInstance and kill, and runs nothing', async () => {
    wg = await launched(2);
    await expect(wg.dispatch(new work.Add(1, 1), -1)).rejects.toThrow(minusOne);
    await expect(wg.dispatch(new work.Add(1, 1), { isolate: -1 })).rejects.toThrow(minusOne);
    await expect(wg.addInstance(new work.Counter(), { isolate: -1 })).rejects.toThrow(minusOne);
    await expect(wg.kill(-1)).rejects.toThrow(minusOne);
    expect(wg.pendingCount).toBe(0);
    expect(wg.memberCount).toBe(0);
    expect(wg.liveIsolateCount).toBe(2);
    await expect(wg.dispatch(new work.Add(1, 1))).resolves.toBe(2);
  });

  it('words every other bad index the same in every call (type, fraction, range)', async () => {
    wg = await launched(2);
    const calls = (i: unknown): Array<Promise<unknown>> => [
      wg!.dispatch(new work.Add(1, 1), i as number),
      wg!.dispatch(new work.Add(1, 1), { isolate: i as number }),
      wg!.addInstance(new work.Counter(), { isolate: i as number }),
      wg!.kill(i as number),
    ];
    for (const [bad, text] of [
      [2, 'Invalid isolate index 2. Valid indices are 0...1'],
      [0.5, 'Invalid isolate index 0.5. Valid indices are 0...1'],
      [NaN, 'Invalid isolate index NaN. Valid indices are 0...1'],
      ['0', 'Invalid isolate index: expected a worker index (an integer), got the string "0". Valid indices are 0...1'],
      [1n, 'Invalid isolate index: expected a worker index (an integer), got bigint 1. Valid indices are 0...1'],
    ] as const) {
      for (const call of calls(bad)) {
        const e = await call.then(() => undefined, (x: unknown) => x);
        expect(e).toBeInstanceOf(lib.WorkgroupException);
        expect((e as Error).message).toBe(text);
      }
    }
    expect(wg.liveIsolateCount).toBe(2);
  });
});

describe('call options are validated like the config', () => {
  it('names an unknown key of dispatch() options with a did-you-mean, and enqueues nothing', async () => {
    wg = await launched(1);
    const e = await wg.dispatch(new work.Add(1, 1), { tiemout: 5 } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toBe(
      'unknown option `tiemout` of dispatch(): did you mean `timeout`? (expected one of isolate, signal, timeout, onProgress, transfer)',
    );
    await expect(wg.dispatch(new work.Add(1, 1), { isolat: 0 } as never)).rejects.toThrow('did you mean `isolate`?');
    await expect(wg.dispatch(new work.Add(1, 1), { banana: 0 } as never)).rejects.toThrow(/^unknown option `banana` of dispatch\(\) \(expected one of/);
    expect(wg.pendingCount).toBe(0);
  });

  it('refuses a signal that is not an AbortSignal, a callback that is not a function, a bad timeout or transfer', async () => {
    wg = await launched(1);
    const job = new work.Add(1, 1);
    await expect(wg.dispatch(job, { signal: {} as never })).rejects.toThrow('expected `signal` of dispatch() to be an AbortSignal (e.g. AbortSignal.timeout(ms) or new AbortController().signal), got an object');
    await expect(wg.dispatch(job, { onProgress: 5 as never })).rejects.toThrow('expected `onProgress` of dispatch() to be a function, got 5');
    await expect(wg.dispatch(job, { timeout: -1 })).rejects.toThrow(RangeError);
    await expect(wg.dispatch(job, { timeout: '10' as never })).rejects.toThrow('expected `timeout` of dispatch() to be a number of milliseconds in 0..2147483647, got "10"');
    await expect(wg.dispatch(job, { transfer: new ArrayBuffer(8) as never })).rejects.toThrow('expected `transfer` of dispatch() to be an array of ArrayBuffers, got an ArrayBuffer');
    await expect(wg.dispatch(job, null as never)).rejects.toThrow('expected the second argument of dispatch() to be a worker index or an options object, got null');
    expect(wg.pendingCount).toBe(0);
    await expect(wg.dispatch(job, { signal: new AbortController().signal, timeout: 5000, onProgress: () => {} })).resolves.toBe(2);
  });

  it('checks invoke(), addInstance(), addIsolate() and shutdown() options the same way', async () => {
    wg = await launched(1);
    const proxy = await wg.addInstance(new work.Counter());
    await expect(proxy.invoke(new work.Get(), { timout: 5 } as never)).rejects.toThrow('unknown option `timout` of invoke(): did you mean `timeout`?');
    await expect(proxy.invoke(new work.Get(), { signal: 'x' as never })).rejects.toThrow('expected `signal` of invoke() to be an AbortSignal');
    await expect(wg.addInstance(new work.Counter(), { onNotfy: () => 1 } as never)).rejects.toThrow('unknown option `onNotfy` of addInstance(): did you mean `onNotify`?');
    await expect(wg.addInstance(new work.Counter(), { onNotify: 3 as never })).rejects.toThrow('expected `onNotify` of addInstance() to be a function, got 3');
    await expect(wg.addIsolate({ lable: 'x' } as never)).rejects.toThrow('unknown option `lable` of addIsolate(): did you mean `label`?');
    await expect(wg.shutdown({ drian: true } as never)).rejects.toThrow('unknown option `drian` of shutdown(): did you mean `drain`?');
    await expect(wg.shutdown({ drain: 'yes' } as never)).rejects.toThrow('expected `drain` of shutdown() to be a boolean, got "yes"');
    expect(wg.state).toBe('active');
    expect(wg.memberCount).toBe(1);
    await expect(proxy.invoke(new work.Get())).resolves.toMatchObject({ count: 0 });
  });

  it('checks CallbackWorkgroup.run() options before starting a worker', async () => {
    const { Counting } = await import(new URL('../fixtures/callback-work.mjs', import.meta.url).href);
    const cw = new lib.CallbackWorkgroup(new Counting(false, 't', 1));
    await expect(cw.run(null, { timeot: 5 } as never)).rejects.toThrow('unknown option `timeot` of CallbackWorkgroup.run(): did you mean `timeout`?');
    await expect(cw.run(null, { signal: {} as never })).rejects.toThrow('expected `signal` of CallbackWorkgroup.run() to be an AbortSignal');
    await expect(cw.run(null, { onError: 'log' as never })).rejects.toThrow('expected `onError` of CallbackWorkgroup.run() to be a function, got "log"');
  });
});
