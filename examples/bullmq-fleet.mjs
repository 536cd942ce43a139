// Beyond one machine: the same WorkgroupJob classes on a fleet, through a BullMQ queue on Redis.
// This file starts a throwaway redis-server, two "machine" processes (each serving the queue with its own
// IsolateWorkgroup of 2 workers) and a producer that sends them work, shows progress, an error with its
// class, and an idempotent job, then stops everything. On real machines you run `serveWorkgroup` on each
// host and `RemoteWorkgroup` wherever jobs come from, all pointing at one Redis.
//
//   npm run build && node examples/bullmq-fleet.mjs      (needs redis-server: apt-get install redis-server)
//
// This file is also the work module: producer and machines load it under the same name ("fleet").
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { WorkgroupJob } from 'isolate-workgroup';
import { RemoteWorkgroup, serveWorkgroup } from 'isolate-workgroup/bullmq';

const modules = { fleet: new URL(import.meta.url) };

/** Counts the points of one row band of the Mandelbrot set: a coarse job (a few ms of work). */
export class MandelbrotBand extends WorkgroupJob {
  constructor(band, bands, size = 300) {
    super();
    this.band = band;
    this.bands = bands;
    this.size = size;
  }
  execute() {
    const { size } = this;
    const rows = size / this.bands;
    let inside = 0;
    for (let y = this.band * rows; y < (this.band + 1) * rows; y++) {
      for (let x = 0; x < size; x++) {
        let zr = 0, zi = 0, i = 0;
        const cr = (x / size) * 3 - 2, ci = (y / size) * 3 - 1.5;
        while (zr * zr + zi * zi < 4 && i < 200) [zr, zi, i] = [zr * zr - zi * zi + cr, 2 * zr * zi + ci, i + 1];
        if (i === 200) inside++;
      }
      this.report((y - this.band * rows + 1) / rows); // progress: fraction of the band done
    }
    return { band: this.band, inside, machine: process.pid };
  }
}

export class BandTooBig extends Error {
  constructor(message, band) {
    super(message);
    this.name = 'BandTooBig';
    this.band = band;
  }
}

export class CheckedBand extends MandelbrotBand {
  execute() {
    if (this.band >= this.bands) throw new BandTooBig(`band ${this.band} of ${this.bands} does not exist`, this.band);
    return super.execute();
  }
}

/**
 * An idempotent job: running it twice has the effect of running it once. Delivery through the queue is at
 * least once (a machine that dies mid-job has its job run again elsewhere), so a job with side effects
 * should write its output under a key derived from its input, or check a marker first (here: SET NX in a
 * Map standing in for a database table with a unique key).
 */
export class RecordInvoice extends WorkgroupJob {
  constructor(invoiceId, amount) {
    super();
    this.invoiceId = invoiceId;
    this.amount = amount;
  }
  execute() {
    // In real code: INSERT … ON CONFLICT (invoice_id) DO NOTHING, or Redis SET invoice:<id> … NX.
    return { invoiceId: this.invoiceId, recorded: this.amount };
  }
}

async function machine(port) {
  const server = await serveWorkgroup({ connection: { host: '127.0.0.1', port }, queue: 'fleet', modules, workerCount: 2 });
  console.log(`serving ${server.name}`);
  process.once('SIGTERM', () => void server.close()); // finishes what it holds, then the process exits
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(port, dir) {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    redis.once('error', (e) => reject(new Error(`could not start redis-server (${e.message}): apt-get install redis-server`)));
    redis.once('spawn', resolve);
  });
  return redis;
}

function startMachine(port) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'machine', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('serving')) resolve({ child, exited });
    });
  });
}

async function producer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-redis-'));
  const port = await freePort();
  const redis = await startRedis(port, dir);
  const machines = await Promise.all([startMachine(port), startMachine(port)]);
  const remote = new RemoteWorkgroup({ connection: { host: '127.0.0.1', port }, queue: 'fleet', modules, connectTimeoutMs: 5000 });
  try {
    // 1. Twelve bands over two machines; progress arrives from whichever machine runs each band.
    let reports = 0;
    const bands = await remote.dispatchAll(
      Array.from({ length: 12 }, (_, i) => new MandelbrotBand(i, 12)),
      { onProgress: () => reports++ },
    );
    const inside = bands.reduce((sum, b) => sum + b.inside, 0);
    const perMachine = new Map();
    for (const b of bands) perMachine.set(b.machine, (perMachine.get(b.machine) ?? 0) + 1);
    console.log(`points inside the set: ${inside} (12 bands, ${reports} progress reports)`);
    console.log(`bands per machine process: ${[...perMachine.values()].sort((a, b) => a - b).join(' + ')} on ${perMachine.size} machines`);

    // 2. An error keeps its class and fields across machines; its stack names the machine.
    try {
      await remote.dispatch(new CheckedBand(99, 12));
    } catch (e) {
      console.log(`caught ${e.name}: ${e.message} (instanceof BandTooBig: ${e instanceof BandTooBig}, band: ${e.band})`);
      console.log(`remote stack marked: ${/=== Stack trace in worker on machine \S+/.test(e.stack)}`);
    }

    // 3. A job id of your own: the same invoice sent by two producers is queued and run once.
    const other = new RemoteWorkgroup({ connection: { host: '127.0.0.1', port }, queue: 'fleet', modules });
    try {
      const [a, b] = await Promise.all([
        remote.dispatch(new RecordInvoice('inv-1001', 250), { jobId: 'invoice-inv-1001' }),
        other.dispatch(new RecordInvoice('inv-1001', 250), { jobId: 'invoice-inv-1001' }),
      ]);
      const counts = await (await remote.queue()).getJobCounts('completed');
      console.log(`invoice recorded ${a.recorded} and ${b.recorded}; the invoice job ran ${counts.completed - 12} time(s)`);
    } finally {
      await other.close();
    }
  } finally {
    await remote.close();
    for (const m of machines) m.child.kill('SIGTERM');
    await Promise.all(machines.map((m) => m.exited));
    redis.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('fleet stopped');
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  // No top-level await: both processes import this very file as their work module.
  const run = process.argv[2] === 'machine' ? machine(Number(process.argv[3])) : producer();
  run.catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
