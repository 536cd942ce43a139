// isolate-workgroup/bullmq with a real redis-server and three machine processes: 1,000 jobs spread over
// them with every result right; errors with their class, cause and both stacks; progress in order before
// the result; retries; cancellation; and bad input that is refused without enqueuing anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { modules, remoteLib, remoteWorkUrl, runLog, rw, startMachine, stopMachine, waitFor, type Machine } from './bullmq-helpers.js';
import { startRedis, type RedisHandle } from './redis-server.js';

const QUEUE = 'three';
let redis: RedisHandle;
let machines: Machine[] = [];
const log = runLog();
let remote: InstanceType<typeof remoteLib.RemoteWorkgroup>;

beforeAll(async () => {
  redis = await startRedis();
  machines = await Promise.all([0, 1, 2].map(() => startMachine(redis.port, QUEUE, { workerCount: 1, concurrency: 4, runLog: log.file })));
  remote = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: QUEUE, modules, reconcileIntervalMs: 1000 });
  await remote.connect();
}, 60_000);

afterAll(async () => {
  await remote?.close();
  await Promise.all(machines.map((m) => stopMachine(m, 'SIGTERM')));
  await redis?.stop();
  log.remove();
});

describe('three machine processes', () => {
  it('runs 1,000 jobs with every result right, spread over the machines', async () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => new rw.Square(`sq-${i}`, i));
    const results = (await within(remote.dispatchAll(jobs), 45_000, '1,000 jobs')) as Array<{ key: string; square: number; pid: number }>;
    expect(results).toHaveLength(1000);
    results.forEach((r, i) => expect(r).toMatchObject({ key: `sq-${i}`, square: i * i }));
    const pids = new Set(results.map((r) => r.pid));
    // Each machine runs its workgroup's worker threads in its own process: 3 distinct pids.
    expect(pids).toEqual(new Set(machines.map((m) => m.pid)));
    const counts = log.counts();
    for (let i = 0; i < 1000; i++) expect(counts.get(`sq-${i}`)).toBe(1);
    expect(remote.pendingCount).toBe(0);
  }, 60_000);

  it('rejects with the error class from the work module, its cause, own properties and a stack marking the machine', async () => {
    const error = await remote.dispatch(new rw.Fail('details')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(rw.RemoteBoom);
    const e = error as Error & { detail: string; cause: unknown };
    expect(e.message).toBe('boom: details');
    expect(e.detail).toBe('details');
    expect(e.cause).toBeInstanceOf(TypeError);
    expect((e.cause as Error).message).toBe('the inner cause');
    expect(e.stack).toMatch(/=== Stack trace in worker on machine [^\n]+:\d+ \(where the error was thrown\) ===\n\s+at Fail\.execute/);
    expect(e.stack).toContain('=== Stack trace in main on machine');
    expect(e.stack).toMatch(/=== Stack trace in producer \(where the call was made\) ===\n[\s\S]*bullmq-three-machines\.test\.ts/);
  });

  it('delivers progress in order, all before the result', async () => {
    const seen: unknown[] = [];
    let resultSeenAt = -1;
    const result = await remote.dispatch(new rw.Steps(5, 20), { onProgress: (v) => seen.push(v) }).then((r) => {
      resultSeenAt = seen.length;
      return r;
    });
    expect(result).toBe('done');
    expect(resultSeenAt).toBe(seen.length);
    // Coalescing may drop intermediate values, never reorder, and the last one always arrives.
    const steps = (seen as Array<{ step: number }>).map((v) => v.step);
    expect(steps.length).toBeGreaterThan(0);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(steps.at(-1)).toBe(5);
  });

  it('retries a failing job `attempts` times, then rejects with its last error', async () => {
    const error = await remote.dispatch(new rw.Flaky('flaky-1'), { attempts: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('flaky flaky-1');
    expect(log.counts().get('flaky-1')).toBe(3);
  });

  it('sends typed arrays as bytes both ways', async () => {
    const input = new Float64Array([1.5, -2, 3e300]);
    const r = (await remote.dispatch(new rw.Bytes(input))) as { doubled: Float64Array; raw: Uint8Array };
    expect(r.doubled).toBeInstanceOf(Float64Array);
    expect([...r.doubled]).toEqual([3, -4, 6e300]);
    expect([...r.raw]).toEqual([...new Uint8Array(input.buffer, 0, 8)]);
  });

  it('cancels a running job when its signal aborts (the job sees this.signal and does not run again)', async () => {
    const ac = new AbortController();
    const p = remote.dispatch(new rw.WaitForAbort('abort-1'), { signal: ac.signal });
    const settled = p.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await within(
      (async () => {
        while (!log.counts().has('abort-1')) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      'the job starting',
    );
    ac.abort();
    expect(await settled).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    const queue = await remote.queue();
    // The machine aborted it and failed it for good: no job stays active, it was not retried.
    await within(
      (async () => {
        while ((await queue.getJobCounts('active')).active !== 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      'the machine giving the cancelled job up',
    );
    expect(log.counts().get('abort-1')).toBe(1);
  });

  it('rejects a job whose timeout passes, with WorkgroupTimeoutException', async () => {
    const e = await remote.dispatch(new rw.Square('slow-1', 2, 2000), { timeout: 100 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(lib.WorkgroupTimeoutException);
    expect((e as Error).message).toMatch(/timed out after 100 ms/);
  });
});

describe('bad input', () => {
  it('refuses an unsendable job with the path of the bad value, and enqueues nothing', async () => {
    const queue = await remote.queue();
    const before = await queue.count();
    const job = new rw.Square('bad', 1);
    job.onDone = () => {};
    await expect(remote.dispatch(job)).rejects.toThrow(/job\.onDone is a function/);
    const shared = new rw.Bytes(new Float64Array(new SharedArrayBuffer(16)));
    await expect(remote.dispatch(shared)).rejects.toThrow(/job\.input is shared memory .*cannot cross machines/);
    class NotExported extends lib.WorkgroupJob<number> {
      execute() {
        return 1;
      }
    }
    await expect(remote.dispatch(new NotExported())).rejects.toThrow(/class NotExported, which is not exported from any module in `modules` \(work\)/);
    expect(await queue.count()).toBe(before);
    // …and the producer stays usable.
    await expect(remote.dispatch(new rw.Square('after-bad', 4))).resolves.toMatchObject({ square: 16 });
  });

  it('fails a job whose class the machines do not know with a clear error, and the machines keep serving', async () => {
    const extra = new URL('../fixtures/remote-extra.mjs', import.meta.url);
    const { OnlyOnProducer } = await import(extra.href);
    const other = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: QUEUE, modules: { ...modules, extra } });
    try {
      const e = await other.dispatch(new OnlyOnProducer(), { attempts: 3 }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(lib.WorkgroupException);
      expect((e as Error).message).toMatch(/could not read job .*class "extra#OnlyOnProducer" is not known on this machine: its modules are "work"/);
      expect(await other.dispatch(new rw.Square('after-unknown', 5))).toMatchObject({ square: 25 });
    } finally {
      await other.close();
    }
    for (const m of machines) expect(m.child.exitCode).toBeNull();
  });

  it('fails a job that RemoteWorkgroup did not send (plain JSON added to the queue) without retrying it, and keeps serving', async () => {
    const queue = await remote.queue();
    const foreign = await queue.add('foreign', { hello: 'world' }, { attempts: 3 });
    // The producer can wait for it like any job: its failure is BullMQ's text (no encoded error).
    const e = await remote.result(foreign.id!).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(lib.WorkgroupException);
    expect((e as Error).message).toMatch(/could not read job .*was not sent by RemoteWorkgroup of this version/);
    const job = await queue.getJob(foreign.id!);
    expect(job?.attemptsMade).toBe(1);
    expect(await remote.dispatch(new rw.Square('after-foreign', 6))).toMatchObject({ square: 36 });
  });

  it('rejects a result over maxPayloadBytes on the producer side with the size and the fix', async () => {
    const small = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: QUEUE, modules, maxPayloadBytes: 64 });
    try {
      await expect(small.dispatch(new rw.Bytes(new Float64Array(100)))).rejects.toThrow(/job is \d+ bytes once encoded, over `maxPayloadBytes` \(64\)/);
    } finally {
      await small.close();
    }
  });

  it('checks options, naming the option and the value', () => {
    const R = remoteLib.RemoteWorkgroup;
    expect(() => new R({ connection: redis.connection, queue: 'a:b', modules })).toThrow(/expected `queue` to be a non-empty string without ':', got "a:b"/);
    expect(() => new R({ connection: redis.connection, queue: 'q', modules: 3 as never })).toThrow(/expected `modules` to be an object of named module URLs/);
    expect(() => new R({ connection: redis.connection, queue: 'q', modules: [remoteWorkUrlCopy(), remoteWorkUrlCopy()] })).toThrow(/two modules in `modules` have the name "remote-work"/);
    expect(() => new R({ connection: null as never, queue: 'q', modules })).toThrow(/expected `connection` to be ioredis options/);
    expect(() => new R({ connection: redis.connection, queue: 'q', modules, maxPayloadBytes: -1 })).toThrow(RangeError);
    return Promise.all([
      expect(remote.dispatch(new rw.Square('o', 1), { timeout: -5 })).rejects.toThrow(/expected `timeout` to be a number in 1\.\./),
      expect(remote.dispatch(new rw.Square('o', 1), { priority: 1.5 })).rejects.toThrow(/expected `priority` to be an integer in 1\.\.2097152, got 1\.5/),
      expect(remote.dispatch(new rw.Square('o', 1), { jobId: 'a:b' })).rejects.toThrow(/expected `jobId`/),
      expect(remote.dispatch({} as never)).rejects.toThrow(/expected dispatch\(\) to be given a WorkgroupJob instance/),
    ]);
  });
});

function remoteWorkUrlCopy(): URL {
  return new URL('../fixtures/remote-work.mjs', import.meta.url);
}

describe('in-process machine', () => {
  it('serves with your own workgroup (never shut down by close()), and runs higher-priority jobs first', async () => {
    const wg = new lib.IsolateWorkgroup(1, { modules: [remoteWorkUrl] });
    await wg.launch();
    const producer = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: 'prio', modules });
    try {
      // Queued before any machine serves 'prio': the machine then takes them by priority (1 is the highest).
      const order: string[] = [];
      const jobs = [5, 3, 1, 4, 2].map((p) => producer.dispatch(new rw.Square(`p${p}`, p), { priority: p }).then((r) => order.push((r as { key: string }).key)));
      await waitFor(async () => (await (await producer.queue()).getPrioritizedCount()) === 5, 10_000, 'five prioritized jobs queued');
      const server = await remoteLib.serveWorkgroup({ connection: redis.connection, queue: 'prio', modules, workgroup: wg, concurrency: 1 });
      let completedEvents = 0;
      server.worker.on('completed', () => completedEvents++); // health and activity: BullMQ's own events
      await within(Promise.all(jobs), 20_000, 'prioritized jobs');
      expect(order).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      await waitFor(() => completedEvents === 5, 5000, "the machine's BullMQ worker emitting 'completed' five times");
      expect(server.workgroup).toBe(wg);
      // A job returning the workgroup's shared memory fails clearly, and its block is given back.
      await expect(producer.dispatch(new rw.ReturnsShared())).rejects.toThrow(/but its result could not be sent: result is shared memory .*cannot cross machines/);
      expect(wg.stats().sharedMemory.liveBlocks).toBe(0);
      await server.close();
      expect(wg.state).toBe('active'); // yours: still running
    } finally {
      await producer.close();
      await wg.shutdown();
    }
  });

  it('close() rejects what is pending with WorkgroupJobAbortedException, and the job stays queued for result(id)', async () => {
    const producer = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: 'nobody-serves', modules });
    const outcome = producer.dispatch(new rw.Square('left', 3), { jobId: 'left-behind' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor(async () => (await (await producer.queue()).getWaitingCount()) === 1, 10_000, 'the job queued');
    await producer.close();
    const e = await outcome;
    expect(e).toBeInstanceOf(lib.WorkgroupJobAbortedException);
    expect((e as Error).message).toMatch(/collect it with result\("left-behind"\)/);
    await expect(producer.dispatch(new rw.Square('x', 1))).rejects.toThrow(lib.WorkgroupInactiveException);
    const later = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: 'nobody-serves', modules });
    // result()'s timeout stops the waiting only: the job stays queued.
    await expect(later.result('left-behind', { timeout: 100 })).rejects.toThrow(/^result timed out after 100 ms/);
    expect(await (await later.queue()).getJobState('left-behind')).toBe('waiting');
    const server = await remoteLib.serveWorkgroup({ connection: redis.connection, queue: 'nobody-serves', modules, workerCount: 1 });
    try {
      expect(await within(later.result('left-behind'), 20_000, 'the job left behind')).toMatchObject({ key: 'left', square: 9 });
    } finally {
      await later.close();
      await server.close();
    }
  });

  it('serveWorkgroup checks its options, naming the option and the value', async () => {
    const base = { connection: redis.connection, queue: 'q', modules };
    await expect(remoteLib.serveWorkgroup({ ...base, queue: '' })).rejects.toThrow(/expected `queue` to be a non-empty string without ':', got ""/);
    await expect(remoteLib.serveWorkgroup({ ...base, workerCount: 0 })).rejects.toThrow(/expected `workerCount` to be an integer in 1\.\.256, got 0/);
    await expect(remoteLib.serveWorkgroup({ ...base, concurrency: 1.5 })).rejects.toThrow(/expected `concurrency` to be an integer in 1\.\.100000, got 1\.5/);
    await expect(remoteLib.serveWorkgroup({ ...base, workgroup: {} as never })).rejects.toThrow(/expected `workgroup` to be an IsolateWorkgroup/);
    await expect(remoteLib.serveWorkgroup({ ...base, modules: { 'a#b': remoteWorkUrl } })).rejects.toThrow(/expected every name in `modules` to be non-empty, without '#'/);
  });
});
