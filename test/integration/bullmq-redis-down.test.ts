// isolate-workgroup/bullmq when Redis is down: at start, both sides reject with an error naming the
// address and the fix, and the process ends by itself; mid-run (Redis killed and started again from its
// append-only file), nothing is lost: every job dispatched before, during and after the outage completes.
import { afterEach, describe, expect, it } from 'vitest';
import { within } from './helpers.js';
import { modules, remoteLib, runLog, rw, startMachine, stopMachine, waitFor, type Machine } from './bullmq-helpers.js';
import { freePort, startRedis, type RedisHandle } from './redis-server.js';
import { runNode } from './run-node.js';

let redis: RedisHandle | undefined;
let machines: Machine[] = [];
const cleanups: Array<() => Promise<unknown> | unknown> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(machines.map((m) => stopMachine(m)));
  machines = [];
  await redis?.stop();
  redis = undefined;
});

describe('Redis down', () => {
  it('at start: dispatch and serveWorkgroup reject with RemoteUnreachableException, and the process exits', async () => {
    const port = await freePort();
    const started = Date.now();
    const run = await runNode(['test/fixtures/remote-redis-down.mjs', String(port)], 20_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    const expected = new RegExp(`^RemoteUnreachableException: cannot reach Redis at 127\\.0\\.0\\.1:${port} within 400 ms \\(.*ECONNREFUSED.*\\): start redis-server there, or fix \`connection\`$`);
    expect(out.dispatch).toMatch(expected);
    expect(out.serve).toMatch(expected);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a producer whose start failed (Redis down) connects on a later call once Redis is up', async () => {
    const port = await freePort();
    const remote = new remoteLib.RemoteWorkgroup({ connection: { host: '127.0.0.1', port }, queue: 'later', modules, connectTimeoutMs: 300 });
    cleanups.push(() => remote.close());
    await expect(remote.dispatch(new rw.Square('early', 1))).rejects.toThrow(remoteLib.RemoteUnreachableException);
    redis = await startRedis({ port });
    await remote.connect();
    const queue = await remote.queue();
    expect(await queue.count()).toBe(0); // the early job was never queued
    const p = remote.dispatch(new rw.Square('late', 2));
    p.catch(() => {});
    await waitFor(async () => (await queue.getWaitingCount()) === 1, 10_000, 'the later job queued');
  });

  it('mid-run: Redis killed and restarted, every job (before, during and after the outage) completes with the right result', async () => {
    redis = await startRedis({ appendonly: true });
    const log = runLog();
    cleanups.push(() => log.remove());
    const remote = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: 'outage', modules, connectTimeoutMs: 8000, reconcileIntervalMs: 1000 });
    cleanups.push(() => remote.close());
    const [machine] = await Promise.all([startMachine(redis.port, 'outage', { workerCount: 1, concurrency: 2, runLog: log.file }), remote.connect()]);
    machines.push(machine);
    const N = 120;
    const before = remote.dispatchAll(Array.from({ length: N }, (_, i) => new rw.Square(`o-${i}`, i, 5)));
    before.catch(() => {});
    await waitFor(() => log.counts().size >= 30, 20_000, '30 jobs started');
    await redis.kill('SIGKILL');
    expect(remote.pendingCount).toBeGreaterThan(0); // the outage overlaps jobs still pending
    // Dispatched while Redis is down: waits (up to connectTimeoutMs) and is added once Redis is back.
    const during = remote.dispatch(new rw.Square('during', 7));
    during.catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    const results = (await within(before, 40_000, 'jobs queued before the outage')) as Array<{ key: string; square: number }>;
    results.forEach((r, i) => expect(r).toMatchObject({ key: `o-${i}`, square: i * i }));
    expect(await within(during, 20_000, 'the job dispatched during the outage')).toMatchObject({ key: 'during', square: 49 });
    expect(await within(remote.dispatch(new rw.Square('after', 8)), 20_000, 'a job after the outage')).toMatchObject({ square: 64 });
    expect(machine.child.exitCode).toBeNull();
  }, 60_000);
});
