// BullMQ benchmark: coarse CPU-bound jobs (1 ms and 10 ms of work) through Redis on 1, 2 and 3 machine
// processes, isolate-workgroup/bullmq (RemoteWorkgroup → serveWorkgroup, each machine a workgroup of one
// worker) against a plain BullMQ worker process running the same function, in one run; plus the same
// jobs on a local IsolateWorkgroup of one worker (in memory, no Redis) for the per-job cost of the queue.
//
// Every result is checked (n * n) before a row counts. Wall overhead per job = wall time × machines / jobs −
// the work itself (Redis round trips, encoding, scheduling, and on a busy computer, waiting for a core).
// CPU per job is measured too (producer: this process; Redis: INFO cpu; machines: process.cpuUsage() of
// every machine process, all threads): CPU beyond the work is the queue's cost that a loaded computer
// does not inflate the way it inflates wall time.
// On one computer the "machines" share its cores (this project's CI box has 2): 3 machines on 2 cores
// cannot scale like 3 hosts would — see the note printed under the table.
//
//   npm run build && node bench/bullmq.bench.mjs [--jobs-1ms N] [--jobs-10ms N]   (needs redis-server)
//   (for A/B runs: --machines N, --only-iwg, --only-1ms; $IWG_BENCH_WG: the machines' workgroupConfig as JSON)
// Output: a Markdown table on stdout and bench/results/bullmq.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsolateWorkgroup } from '../dist/index.js';
import { RemoteWorkgroup } from '../dist/bullmq/index.js';
import { Spin, spin } from './bullmq/work.mjs';

const require = createRequire(import.meta.url);
const { Queue, QueueEvents } = require('bullmq');
const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const JOBS = { 1: arg('--jobs-1ms', 300), 10: arg('--jobs-10ms', 90) };
const MACHINES = process.argv.includes('--machines') ? [arg('--machines', 1)] : [1, 2, 3];
const MODES = process.argv.includes('--only-iwg') ? ['iwg'] : ['iwg', 'plain'];
const WORKS = process.argv.includes('--only-1ms') ? [1] : [1, 10];

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iwg-bench-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  return { port, stop: () => (child.kill(), rmSync(dir, { recursive: true, force: true })) };
}

async function startMachines(mode, count, port, queue) {
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [path.join(here, 'bullmq/machine.mjs'), mode, String(port), queue], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.once('exit', r));
      const m = { child, exited, cpuWaiters: [] };
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += String(d);
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('cpu ')) m.cpuWaiters.shift()?.(Number(line.slice(4)));
        }
      });
      return new Promise((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve(m)));
    }),
  );
}

/** CPU µs used so far by every machine process (all threads), summed. */
async function machinesCpu(machines) {
  const each = await Promise.all(
    machines.map((m) => new Promise((resolve) => {
      m.cpuWaiters.push(resolve);
      m.child.kill('SIGUSR1');
    })),
  );
  return each.reduce((a, b) => a + b, 0);
}

/** CPU µs Redis has used so far (INFO cpu). */
async function redisCpu(client) {
  const info = await client.info('cpu');
  const get = (k) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
}

/** Runs `timed` (which returns its wall ms) and measures CPU per job of the producer, Redis and the machines. */
async function withCpu(machines, client, count, timed) {
  const p0 = process.cpuUsage();
  const [m0, r0] = [await machinesCpu(machines), await redisCpu(client)];
  const wall = await timed();
  const p1 = process.cpuUsage(p0);
  const [m1, r1] = [await machinesCpu(machines), await redisCpu(client)];
  return { wall, cpu: { producer: (p1.user + p1.system) / 1000 / count, redis: (r1 - r0) / 1000 / count, machines: (m1 - m0) / 1000 / count } };
}

async function stopMachines(machines) {
  for (const m of machines) m.child.kill('SIGTERM');
  await Promise.all(machines.map((m) => m.exited));
}

function check(results, count) {
  if (results.length !== count) throw new Error(`expected ${count} results, got ${results.length}`);
  results.forEach((r, i) => {
    if (r.n !== i || r.square !== i * i) throw new Error(`wrong result for job ${i}: ${JSON.stringify(r)}`);
  });
}

async function runIwg(port, queue, ms, count, measure) {
  const remote = new RemoteWorkgroup({ connection: { host: '127.0.0.1', port }, queue, modules: { work: new URL('./bullmq/work.mjs', import.meta.url) } });
  await remote.connect();
  check(await remote.dispatchAll(Array.from({ length: 6 }, (_, i) => new Spin(ITER[ms], i))), 6); // warm-up
  let results;
  const out = await measure(async () => {
    const t = performance.now();
    results = await remote.dispatchAll(Array.from({ length: count }, (_, i) => new Spin(ITER[ms], i)));
    return performance.now() - t;
  });
  check(results, count);
  await remote.close();
  return out;
}

async function runPlain(port, queue, ms, count, measure) {
  const connection = { host: '127.0.0.1', port };
  const q = new Queue(queue, { connection });
  const events = new QueueEvents(queue, { connection });
  await Promise.all([q.waitUntilReady(), events.waitUntilReady()]);
  const batch = async (n, tag) => {
    const results = new Map();
    const done = new Promise((resolve) => {
      events.on('completed', ({ jobId, returnvalue }) => {
        if (!jobId.startsWith(tag)) return;
        results.set(Number(jobId.slice(tag.length)), returnvalue);
        if (results.size === n) resolve();
      });
    });
    await q.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'spin', data: { iterations: ITER[ms], n: i }, opts: { jobId: `${tag}${i}`, removeOnComplete: { age: 3600 } } })));
    await done;
    return Array.from({ length: n }, (_, i) => results.get(i));
  };
  await new Promise((r) => setTimeout(r, 200)); // QueueEvents starts reading at '$'
  check(await batch(6, `w${ms}-`), 6);
  let results;
  const out = await measure(async () => {
    const t = performance.now();
    results = await batch(count, `m${ms}-`);
    return performance.now() - t;
  });
  check(results, count);
  events.removeAllListeners('completed');
  await Promise.all([events.close(), q.close()]);
  return out;
}

async function runLocal(ms, count) {
  const wg = new IsolateWorkgroup(1, { modules: [new URL('./bullmq/work.mjs', import.meta.url)] });
  await wg.launch();
  await Promise.all(Array.from({ length: 6 }, (_, i) => wg.dispatch(new Spin(ITER[ms], i))));
  const p0 = process.cpuUsage();
  const t = performance.now();
  const results = await Promise.all(Array.from({ length: count }, (_, i) => wg.dispatch(new Spin(ITER[ms], i))));
  const wall = performance.now() - t;
  const p1 = process.cpuUsage(p0);
  check(results, count);
  await wg.shutdown();
  // Producer and worker are one process here: its CPU is the machine's.
  return { wall, cpu: { producer: 0, redis: 0, machines: (p1.user + p1.system) / 1000 / count } };
}

/** Iterations of spin() that take `ms` on an idle core (the fastest of several tries). */
function calibrate(ms) {
  const probe = 2_000_000;
  let best = Infinity;
  for (let k = 0; k < 7; k++) {
    const t = performance.now();
    spin(probe, k);
    best = Math.min(best, performance.now() - t);
  }
  return Math.round((probe / best) * ms);
}
const ITER = { 1: calibrate(1), 10: calibrate(10) };

const rows = [];
const redis = await startRedis();
const { Redis } = require('ioredis');
const redisClient = new Redis({ host: '127.0.0.1', port: redis.port });
const load = os.loadavg()[0];
try {
  for (const ms of WORKS) {
    const count = JOBS[ms];
    const local = await runLocal(ms, count);
    rows.push({ work_ms: ms, machines: 1, library: 'local IsolateWorkgroup (1 worker, no Redis)', jobs: count, wall_ms: local.wall, cpu_ms_per_job: local.cpu });
    for (const machines of MACHINES) {
      for (const mode of MODES) {
        const queue = `bench-${mode}-${ms}-${machines}`;
        const ms_ = await startMachines(mode, machines, redis.port, queue);
        try {
          const measure = (timed) => withCpu(ms_, redisClient, count, timed);
          const { wall, cpu } = mode === 'iwg' ? await runIwg(redis.port, queue, ms, count, measure) : await runPlain(redis.port, queue, ms, count, measure);
          rows.push({ work_ms: ms, machines, library: mode === 'iwg' ? 'isolate-workgroup/bullmq' : 'plain BullMQ worker', jobs: count, wall_ms: wall, cpu_ms_per_job: cpu });
        } finally {
          await stopMachines(ms_);
        }
      }
    }
  }
} finally {
  redisClient.disconnect();
  redis.stop();
}
for (const r of rows) {
  r.jobs_per_s = Math.round((r.jobs / r.wall_ms) * 1000);
  r.overhead_per_job_ms = Number(((r.wall_ms * r.machines) / r.jobs - r.work_ms).toFixed(3));
  const c = r.cpu_ms_per_job;
  r.cpu_overhead_per_job_ms = Number((c.producer + c.redis + c.machines - r.work_ms).toFixed(3));
}
const f = (x) => x.toFixed(2);
const lines = [
  `BullMQ benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), load average at start ${load.toFixed(2)}`,
  '',
  '| work per job | machines | library | jobs | jobs/s | wall overhead per job (ms) | CPU per job: producer / Redis / machines (ms) | CPU beyond the work, per job (ms) |',
  '|---:|---:|---|---:|---:|---:|---|---:|',
  ...rows.map((r) => `| ${r.work_ms} ms | ${r.machines} | ${r.library} | ${r.jobs} | ${r.jobs_per_s} | ${r.overhead_per_job_ms} | ${f(r.cpu_ms_per_job.producer)} / ${f(r.cpu_ms_per_job.redis)} / ${f(r.cpu_ms_per_job.machines)} | ${r.cpu_overhead_per_job_ms} |`),
  '',
  `Machines here are processes on one ${os.cpus().length}-core computer, which also runs Redis and the producer: beyond ${os.cpus().length} machines they`,
  'compete for the same cores. On separate hosts, jobs/s should grow with the machine count until Redis or the producer saturates.',
];
console.log(lines.join('\n'));
writeFileSync(path.join(here, 'results/bullmq.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: os.cpus().length, loadAverage: load, argv: process.argv.slice(2), iterations: ITER, rows }, null, 2) + '\n');
