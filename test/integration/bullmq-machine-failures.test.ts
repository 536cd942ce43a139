// isolate-workgroup/bullmq when processes die or restart (real redis-server, real processes):
// - a machine killed with SIGKILL mid-batch: every job still completes with the right result; the jobs
//   it held run again elsewhere (at-least-once delivery), and the duplicates are counted and reported;
// - a producer killed after queueing, machines closed (handing their jobs back) and started again: the
//   queued jobs survive, and a new producer collects every result by job id.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { within } from './helpers.js';
import { modules, remoteLib, runLog, rw, startMachine, stopMachine, waitFor, type Machine } from './bullmq-helpers.js';
import { startRedis, type RedisHandle } from './redis-server.js';
import { repoRoot } from './run-node.js';

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

describe('machines and producers that die', () => {
  it('a machine killed with SIGKILL mid-batch: every job completes, results right, duplicates counted', async () => {
    redis = await startRedis();
    const log = runLog();
    cleanups.push(() => log.remove());
    machines = await Promise.all([0, 1, 2].map(() => startMachine(redis!.port, 'kill', { workerCount: 1, concurrency: 2, runLog: log.file })));
    const remote = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: 'kill', modules, reconcileIntervalMs: 2000 });
    cleanups.push(() => remote.close());
    const N = 300;
    const all = remote.dispatchAll(Array.from({ length: N }, (_, i) => new rw.Square(`k-${i}`, i, 10)));
    all.catch(() => {});
    await waitFor(() => log.counts().size >= 60, 20_000, '60 jobs started');
    const victim = machines[0]!;
    expect(await stopMachine(victim, 'SIGKILL')).toBe('SIGKILL');
    const results = (await within(all, 40_000, 'the batch after a machine was killed')) as Array<{ key: string; square: number; pid: number }>;
    results.forEach((r, i) => expect(r).toMatchObject({ key: `k-${i}`, square: i * i }));
    const counts = log.counts();
    let duplicates = 0;
    for (let i = 0; i < N; i++) {
      const runs = counts.get(`k-${i}`) ?? 0;
      expect(runs).toBeGreaterThanOrEqual(1);
      duplicates += runs - 1;
    }
    // Reported, not asserted away: at-least-once delivery runs the jobs the dead machine held again.
    console.log(`[bullmq] SIGKILL mid-batch: ${N} jobs, ${duplicates} ran twice (held by the killed machine, concurrency 2)`);
    expect(results.some((r) => r.pid === victim.pid)).toBe(true);
    expect(results.filter((r) => r.pid !== victim.pid).length).toBeGreaterThan(0);
  }, 60_000);

  it('queued jobs survive a killed producer and machines that stop and start; a new producer collects them', async () => {
    redis = await startRedis();
    const log = runLog();
    cleanups.push(() => log.remove());
    const N = 60;
    // 1. A producer process queues N jobs (no machine is running), then is killed.
    const producer = spawn(process.execPath, ['test/fixtures/remote-producer.mjs', String(redis.port), 'restart', String(N), 'r'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    producer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    producer.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const producerExit = new Promise((r) => producer.once('exit', r));
    await within(waitFor(() => out.includes('queued'), 20_000, 'producer queued its jobs'), 21_000, `producer (${out})`);
    producer.kill('SIGKILL');
    await producerExit;

    // 2. A machine starts, takes some, and is closed handing the jobs it holds back to the queue.
    const first = await startMachine(redis.port, 'restart', { workerCount: 1, concurrency: 3, runLog: log.file });
    machines.push(first);
    await waitFor(() => log.counts().size >= 15, 20_000, '15 jobs started');
    first.child.kill('SIGUSR2');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('closed');
    const remote = new remoteLib.RemoteWorkgroup({ connection: redis.connection, queue: 'restart', modules });
    cleanups.push(() => remote.close());
    const queue = await remote.queue();
    const counts = await queue.getJobCounts('active', 'waiting', 'completed');
    expect(counts.active).toBe(0); // handed back at once, not left to the stalled-job check
    expect((counts.waiting ?? 0) + (counts.completed ?? 0)).toBe(N);
    expect(counts.waiting).toBeGreaterThan(0);

    // 3. A new producer waits for every job by id; a second machine runs the rest.
    const results = Array.from({ length: N }, (_, i) => remote.result<{ key: string; square: number }>(`r-${i}`));
    machines.push(await startMachine(redis.port, 'restart', { workerCount: 1, concurrency: 3, runLog: log.file }));
    const values = await within(Promise.all(results), 30_000, 'results after the restarts');
    values.forEach((v, i) => expect(v).toMatchObject({ key: `r-${i}`, square: i * i }));
    const runs = log.counts();
    for (let i = 0; i < N; i++) expect(runs.get(`r-${i}`)).toBeGreaterThanOrEqual(1);
    // A job id that was never queued rejects clearly instead of waiting forever.
    await expect(remote.result('never-queued')).rejects.toThrow(/job never-queued is not in Redis/);
  }, 60_000);
});
