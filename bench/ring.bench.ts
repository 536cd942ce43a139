/**
 * Ring benchmark: the SPSC byte ring between two threads against raw postMessage, in one run.
 *
 * Rows (each names its topology):
 * - pipelined throughput, 16-byte payloads, producer worker → consumer worker, one publish per frame, for
 *   three wait strategies: pure spin, spin-then-wait (bounded spin, then Atomics.wait with a parked flag;
 *   the other side notifies only when the flag says parked), wait/notify on every frame;
 * - baseline: postMessage of 16-byte Uint8Arrays worker → worker over a MessageChannel (the receiver
 *   drains with receiveMessageOnPort, the fastest way to receive);
 * - round-trip latency p50/p99 worker ↔ worker over two rings (request, response), same three strategies;
 * - baseline: postMessage ping-pong worker ↔ worker over a MessageChannel;
 * - for reference, main ↔ worker: main sends on a ring and awaits the response with Atomics.waitAsync
 *   (main must never block), and a postMessage ping-pong main ↔ worker.
 *
 * Every row checks its data (sequence numbers) before its time counts; the first 10% of each run is
 * warm-up and not timed. Targets (reported, never asserted): pipelined ≥ 10 M frames/s, spin-then-wait
 * round trip p50 ≤ 2 µs and ≥ 30× better than postMessage.
 *
 * Run: `npx tsx bench/ring.bench.ts` (builds dist/ first; BENCH_SCALE multiplies the counts, BENCH_REPS
 * sets how many runs per row, default 3, of which the median is reported).
 * Output: a Markdown table on stdout and bench/results/ring.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { RING_HEADER_BYTES } from '../src/ring/layout.js';
import { SpscConsumer, SpscProducer } from '../src/ring/spsc.js';
import { waitAsyncPromise } from '../src/ring/wait.js';
// @ts-expect-error -- plain .mjs build script without declarations
import { buildLib } from '../scripts/build.mjs';

type Strategy = 'spin' | 'spin-wait' | 'wait';

const WORKER = new URL('./ring.worker.mjs', import.meta.url);
const RESULTS = new URL('./results/ring.json', import.meta.url);
const SCALE = Math.max(0.01, Number(process.env['BENCH_SCALE'] ?? '1') || 1);
const REPS = Math.max(1, Math.round(Number(process.env['BENCH_REPS'] ?? '3') || 3));
const CAPACITY = 64 * 1024;
const CTRL_BYTES = 160 * 4;
const START = 128;
const PAYLOAD = 16;

const n = (count: number): number => Math.max(1000, Math.round(count * SCALE));

interface Report {
  role: string;
  errors?: number;
  timedFrames?: number;
  ms?: number;
  samples?: Float64Array;
  parks?: number;
  notifies?: number;
}

function run(role: string, data: Record<string, unknown>, transfer: MessagePort[] = []): { worker: Worker; done: Promise<Report> } {
  const worker = new Worker(WORKER, { workerData: { role, ...data }, transferList: transfer });
  const done = new Promise<Report>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`${role}: no result within 120 s`));
    }, 120_000);
    worker.once('message', (m: Report) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role}: exited with code ${code} before reporting`));
    });
  });
  return { worker, done };
}

function regions(): { sab: SharedArrayBuffer; ctrl: SharedArrayBuffer } {
  return { sab: new SharedArrayBuffer(2 * RING_HEADER_BYTES + 2 * CAPACITY), ctrl: new SharedArrayBuffer(CTRL_BYTES) };
}

/** Opens the start gate once both workers are up (their first action is to wait on it). */
async function openGate(ctrl: SharedArrayBuffer): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  const i32 = new Int32Array(ctrl);
  Atomics.store(i32, START, 1);
  Atomics.notify(i32, START);
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function latency(samples: Float64Array): { p50: number; p99: number; mean: number } {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of samples) sum += s;
  return { p50: percentile(sorted, 0.5) * 1000, p99: percentile(sorted, 0.99) * 1000, mean: (sum / samples.length) * 1000 };
}

function check(report: Report, what: string): void {
  if (report.errors !== 0) throw new Error(`${what}: ${report.errors} frames out of order or corrupt — not timing a wrong run`);
}

async function pipelined(strategy: Strategy, frames: number, batch: number): Promise<{ perSecond: number; parks: number; notifies: number }> {
  const { sab, ctrl } = regions();
  const data = { sab, ctrl, capacity: CAPACITY, frames, strategy, batch };
  const producer = run('pipe-producer', data);
  const consumer = run('pipe-consumer', data);
  await openGate(ctrl);
  const [p, c] = await Promise.all([producer.done, consumer.done]);
  check(c, `pipelined ${strategy}`);
  return { perSecond: (c.timedFrames! / c.ms!) * 1000, parks: (p.parks ?? 0) + (c.parks ?? 0), notifies: (p.notifies ?? 0) + (c.notifies ?? 0) };
}

async function pipelinedPostMessage(frames: number): Promise<{ perSecond: number }> {
  const { ctrl } = regions();
  const { port1, port2 } = new MessageChannel();
  const producer = run('pm-pipe-producer', { ctrl, port: port1, frames }, [port1]);
  const consumer = run('pm-pipe-consumer', { ctrl, port: port2, frames }, [port2]);
  await openGate(ctrl);
  const [, c] = await Promise.all([producer.done, consumer.done]);
  check(c, 'pipelined postMessage');
  return { perSecond: (c.timedFrames! / c.ms!) * 1000 };
}

async function roundTrip(strategy: Strategy, iterations: number): Promise<{ p50: number; p99: number; mean: number; parks: number }> {
  const { sab, ctrl } = regions();
  const data = { sab, ctrl, capacity: CAPACITY, iterations, strategy };
  const server = run('rt-server', data);
  const client = run('rt-client', data);
  await openGate(ctrl);
  const [s, c] = await Promise.all([server.done, client.done]);
  check(c, `round trip ${strategy}`);
  return { ...latency(c.samples!), parks: (s.parks ?? 0) + (c.parks ?? 0) };
}

async function roundTripPostMessage(iterations: number): Promise<ReturnType<typeof latency>> {
  const { ctrl } = regions();
  const { port1, port2 } = new MessageChannel();
  const server = run('pm-rt-server', { ctrl, port: port2 }, [port2]);
  const client = run('pm-rt-client', { ctrl, port: port1, iterations }, [port1]);
  await openGate(ctrl);
  const [c] = await Promise.all([client.done, server.done]);
  check(c, 'round trip postMessage');
  return latency(c.samples!);
}

/** Main ↔ worker over rings; main awaits each response with Atomics.waitAsync (it must not block). */
async function roundTripMainWaitAsync(iterations: number): Promise<ReturnType<typeof latency>> {
  const { sab, ctrl } = regions();
  const server = run('rt-server-main', { sab, ctrl, capacity: CAPACITY });
  await openGate(ctrl);
  const i32 = new Int32Array(ctrl);
  const req = new SpscProducer(sab, 0, 2 * RING_HEADER_BYTES, CAPACITY);
  const resp = new SpscConsumer(sab, RING_HEADER_BYTES, 2 * RING_HEADER_BYTES + CAPACITY, CAPACITY);
  const u32 = new Uint32Array(sab);
  const warm = Math.floor(iterations / 10);
  const samples = new Float64Array(iterations - warm);
  let errors = 0;
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const off = req.reserve(PAYLOAD);
    u32[off >> 2] = i;
    req.commit(1, PAYLOAD);
    req.publish();
    if (Atomics.compareExchange(i32, 32, 1, 0) === 1) {
      Atomics.add(i32, 0, 1);
      Atomics.notify(i32, 0);
    }
    let r: number;
    while ((r = resp.next()) < 0) {
      const d = Atomics.load(i32, 64);
      if (!resp.isEmpty) continue;
      await waitAsyncPromise(i32, 64, d, 1000); // what the scheduler's main loop does
    }
    if (u32[r >> 2] !== i >>> 0) errors++;
    resp.advance();
    resp.release();
    if (i >= warm) samples[i - warm] = performance.now() - t0;
  }
  req.reserve(0);
  req.commit(2, 0);
  req.publish();
  Atomics.add(i32, 0, 1);
  Atomics.notify(i32, 0);
  await server.done;
  if (errors !== 0) throw new Error(`main↔worker ring round trip: ${errors} wrong responses`);
  return latency(samples);
}

/** postMessage ping-pong main ↔ worker (the worker echoes on its own port). */
async function roundTripPostMessageMain(iterations: number): Promise<ReturnType<typeof latency>> {
  const { ctrl } = regions();
  const { port1, port2 } = new MessageChannel();
  const server = run('pm-rt-server', { ctrl, port: port2 }, [port2]);
  const warm = Math.floor(iterations / 10);
  const samples = new Float64Array(iterations - warm);
  const payload = new Uint8Array(PAYLOAD);
  const view = new DataView(payload.buffer);
  let errors = 0;
  for (let i = 0; i < iterations; i++) {
    view.setUint32(0, i, true);
    const t0 = performance.now();
    const echoed = await new Promise<Uint8Array>((resolve) => {
      port1.once('message', resolve);
      port1.postMessage(payload);
    });
    if ((echoed[0]! | (echoed[1]! << 8) | (echoed[2]! << 16) | (echoed[3]! << 24)) >>> 0 !== i >>> 0) errors++;
    if (i >= warm) samples[i - warm] = performance.now() - t0;
  }
  port1.close();
  await server.done;
  if (errors !== 0) throw new Error(`main↔worker postMessage round trip: ${errors} wrong responses`);
  return latency(samples);
}

const fmtRate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(0)} k/s`);
const fmtUs = (x: number): string => `${x.toFixed(x < 10 ? 2 : 1)} µs`;
const fmtX = (x: number): string => `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `once` REPS times and keeps the per-field median (the machine is shared and noisy). */
async function repeated<T extends Record<string, number>>(once: () => Promise<T>): Promise<T & { runs: number[] }> {
  const all: T[] = [];
  for (let r = 0; r < REPS; r++) all.push(await once());
  const out: Record<string, number> = {};
  for (const key of Object.keys(all[0]!)) out[key] = median(all.map((x) => x[key]!));
  const first = Object.keys(all[0]!)[0]!;
  return { ...(out as T), runs: all.map((x) => x[first]!) };
}

async function main(): Promise<void> {
  await (buildLib as (o: { quiet: boolean }) => Promise<void>)({ quiet: true });
  console.log(
    `ring bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(2)}, ` +
      `scale ${SCALE}, median of ${REPS} runs per row\n`,
  );

  const pipeRows = [
    { name: 'SPSC ring, pure spin, publish per frame', strategy: 'spin' as const, batch: 1, frames: n(4_000_000) },
    { name: 'SPSC ring, pure spin, publish per 32 frames', strategy: 'spin' as const, batch: 32, frames: n(8_000_000) },
    { name: 'SPSC ring, spin-then-wait, publish per frame', strategy: 'spin-wait' as const, batch: 1, frames: n(4_000_000) },
    { name: 'SPSC ring, spin-then-wait, publish per 32 frames', strategy: 'spin-wait' as const, batch: 32, frames: n(8_000_000) },
    { name: 'SPSC ring, wait/notify every publish, publish per frame', strategy: 'wait' as const, batch: 1, frames: n(1_000_000) },
    { name: 'SPSC ring, wait/notify every publish, publish per 32 frames', strategy: 'wait' as const, batch: 32, frames: n(4_000_000) },
  ];
  const pmPipe = await repeated(() => pipelinedPostMessage(n(300_000)));
  const throughput = [];
  for (const row of pipeRows) {
    const r = await repeated(() => pipelined(row.strategy, row.frames, row.batch));
    throughput.push({
      name: row.name,
      topology: 'worker → worker',
      framesPerSecond: r.perSecond,
      runs: r.runs,
      parks: r.parks,
      notifies: r.notifies,
      vsPostMessage: r.perSecond / pmPipe.perSecond,
    });
  }
  throughput.push({
    name: 'postMessage (baseline), 16-byte Uint8Array per message',
    topology: 'worker → worker (MessageChannel)',
    framesPerSecond: pmPipe.perSecond,
    runs: pmPipe.runs,
    parks: 0,
    notifies: 0,
    vsPostMessage: 1,
  });

  const pmRt = await repeated(() => roundTripPostMessage(n(20_000)));
  const rtRows = [
    { name: 'SPSC rings, pure spin', strategy: 'spin' as const, iterations: n(200_000) },
    { name: 'SPSC rings, spin-then-wait', strategy: 'spin-wait' as const, iterations: n(200_000) },
    { name: 'SPSC rings, wait/notify every time', strategy: 'wait' as const, iterations: n(30_000) },
  ];
  const rounds = [];
  for (const row of rtRows) {
    const r = await repeated(() => roundTrip(row.strategy, row.iterations));
    rounds.push({ name: row.name, topology: 'worker ↔ worker', p50Us: r.p50, p99Us: r.p99, meanUs: r.mean, runsP50Us: r.runs, vsPostMessageP50: pmRt.p50 / r.p50 });
  }
  rounds.push({ name: 'postMessage (baseline)', topology: 'worker ↔ worker (MessageChannel)', p50Us: pmRt.p50, p99Us: pmRt.p99, meanUs: pmRt.mean, runsP50Us: pmRt.runs, vsPostMessageP50: 1 });
  const ringMain = await repeated(() => roundTripMainWaitAsync(n(20_000)));
  const pmMain = await repeated(() => roundTripPostMessageMain(n(20_000)));
  rounds.push({
    name: 'SPSC rings, main awaits with Atomics.waitAsync, worker spin-then-wait',
    topology: 'main ↔ worker',
    p50Us: ringMain.p50,
    p99Us: ringMain.p99,
    meanUs: ringMain.mean,
    runsP50Us: ringMain.runs,
    vsPostMessageP50: pmMain.p50 / ringMain.p50,
  });
  rounds.push({ name: 'postMessage (baseline)', topology: 'main ↔ worker', p50Us: pmMain.p50, p99Us: pmMain.p99, meanUs: pmMain.mean, runsP50Us: pmMain.runs, vsPostMessageP50: 1 });

  console.log(`### Pipelined throughput, ${PAYLOAD}-byte payloads (each row says how often the producer publishes)\n`);
  console.log('| row | topology | frames/s | × postMessage | parks | notifies |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const t of throughput) console.log(`| ${t.name} | ${t.topology} | ${fmtRate(t.framesPerSecond)} | ${fmtX(t.vsPostMessage)} | ${t.parks} | ${t.notifies} |`);
  console.log(`\n### Round-trip latency, ${PAYLOAD}-byte payloads (× postMessage compares p50 within the same topology)\n`);
  console.log('| row | topology | p50 | p99 | mean | × postMessage (p50) |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rounds) console.log(`| ${r.name} | ${r.topology} | ${fmtUs(r.p50Us)} | ${fmtUs(r.p99Us)} | ${fmtUs(r.meanUs)} | ${fmtX(r.vsPostMessageP50)} |`);

  const spinWaitRt = rounds[1]!; // worker ↔ worker, spin-then-wait
  const perFrame = throughput[2]!; // spin-then-wait, publish per frame: the pool's default wake protocol
  const bestPipe = Math.max(...throughput.slice(0, pipeRows.length).map((t) => t.framesPerSecond));
  const targets = {
    pipelinedAtLeast10M: { spinThenWaitPerFrame: perFrame.framesPerSecond, best: bestPipe, met: perFrame.framesPerSecond >= 10e6 },
    spinThenWaitP50AtMost2us: { value: spinWaitRt.p50Us, met: spinWaitRt.p50Us <= 2 },
    spinThenWaitAtLeast30xPostMessage: { value: spinWaitRt.vsPostMessageP50, met: spinWaitRt.vsPostMessageP50 >= 30 },
  };
  const verdict = (met: boolean): string => (met ? 'met' : 'missed');
  console.log('\nTargets (reported, not asserted):');
  console.log(
    `- pipelined >= 10 M frames/s: spin-then-wait, publish per frame ${fmtRate(perFrame.framesPerSecond)} (best row ${fmtRate(bestPipe)}) -> ` +
      verdict(targets.pipelinedAtLeast10M.met),
  );
  console.log(`- spin-then-wait round trip p50 <= 2 µs (worker ↔ worker): ${fmtUs(spinWaitRt.p50Us)} -> ${verdict(targets.spinThenWaitP50AtMost2us.met)}`);
  console.log(`- spin-then-wait >= 30x postMessage (p50, worker ↔ worker): ${fmtX(spinWaitRt.vsPostMessageP50)} -> ${verdict(targets.spinThenWaitAtLeast30xPostMessage.met)}`);

  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  const json = {
    bench: 'ring',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    loadAverage: os.loadavg(),
    scale: SCALE,
    payloadBytes: PAYLOAD,
    ringCapacityBytes: CAPACITY,
    throughput,
    roundTrip: rounds,
    targets,
  };
  await writeFile(RESULTS, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS.pathname}`);
}

await main();
