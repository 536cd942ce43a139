/**
 * Where a tiny job's time goes: each step of the path a `dispatch` takes, timed alone on one thread with
 * the library's own parts (tinybench), beside the end-to-end figure of `npm run bench -- --scope dispatch`.
 *
 *   main:   promise → pending entry → table insert → encode → queue commit → (wake) ……
 *   worker: claim → decode → execute → result encode → publish ……
 *   main:   drain → decode → table lookup + remove → settle
 *
 * Run: `npx tsx bench/per-job.bench.ts` (`--time=ms` per task, default 300; `--json`). Each task runs a
 * loop of 1,000 steps and reports ns per step (median of the samples). Single-threaded: the cross-thread
 * costs (cache-line transfers, wake-ups) are not here — they are the difference to the end-to-end figure.
 * Nothing here asserts on time.
 */
import os from 'node:os';
import { Bench } from 'tinybench';
import { ByteReader, decodeValue, encodeValue, type DecodeHooks } from '../src/codec/codec.js';
import { Arena, createArenaBuffer } from '../src/memory/arena.js';
import { CELL_INLINE_MAX, JobQueueConsumer, KIND_INLINE } from '../src/ring/job-queue.js';
import { createPoolRegion } from '../src/ring/layout.js';
import { SpscConsumer, SpscProducer } from '../src/ring/spsc.js';
import { IdTable } from '../src/scheduler/id-table.js';
import { MainCodec } from '../src/scheduler/main-codec.js';
import { Pending } from '../src/scheduler/pending.js';
import { WorkgroupJob } from '../src/shared/job.js';
import { withCallerStack } from '../src/shared/errors.js';

const N = 1000;
const timeArg = process.argv.find((a) => a.startsWith('--time='));
const time = timeArg ? Number(timeArg.slice(7)) : 300;
const json = process.argv.includes('--json');

class Inc extends WorkgroupJob<number> {
  x: number;
  constructor(x: number) {
    super();
    this.x = x;
  }
  execute(): number {
    return this.x + 1;
  }
}

const pool = createPoolRegion(2, 4096);
const arena = new Arena(createArenaBuffer({ initialBytes: 1 << 20, maxBytes: 1 << 20, maxOwners: 3 }), 0);
const codec = new MainCodec(pool, arena);
codec.registry.registerModule('bench:per-job', { Inc });
const jobs = Array.from({ length: N }, (_, i) => new Inc(i));

// The shared queue, its producer as main uses it and a consumer on the same thread.
const { Dispatcher } = await import('../src/scheduler/dispatcher.js');
const { PendingTable } = await import('../src/scheduler/pending.js');
const { WorkerSet } = await import('../src/scheduler/worker-set.js');
const table = new PendingTable(() => undefined, () => undefined);
const dispatcher = new Dispatcher(pool, codec, arena, table, new WorkerSet(2));
const q = dispatcher.queue;
const consumer = new JobQueueConsumer(pool, 0);

// A result ring as a worker writes it and main reads it.
const ringSab = new SharedArrayBuffer(128 + (1 << 16));
const producer = new SpscProducer(ringSab, 0, 128, 1 << 16);
const reader = new SpscConsumer(ringSab, 0, 128, 1 << 16);

const encoded = new Uint8Array(64);
const scratch = new Uint8Array(64);
codec.writer.begin(encoded, 0, 64);
encodeValue(codec.writer, jobs[7], codec.encodeHooks, 'job');
const encodedLen = codec.writer.length;
const resultBytes = new Uint8Array(16);
codec.writer.begin(resultBytes, 0, 16);
encodeValue(codec.writer, 8, codec.encodeHooks, 'result');
const resultLen = codec.writer.length;

// The worker's side of decoding a job: the class found from its reference (here: always Inc).
const workerHooks: DecodeHooks = { ...codec.decodeHooks, classByRef: () => Inc };
const workerReader = new ByteReader();

let sink: unknown;
const bench = new Bench({ time, warmupTime: 100 });
bench
  .add('promise with its resolve/reject captured', () => {
    for (let i = 0; i < N; i++) {
      let res!: (v: unknown) => void;
      sink = new Promise((r) => (res = r));
      sink = res;
    }
  })
  .add('+ the two-sided-stack .then wrapper', () => {
    for (let i = 0; i < N; i++) sink = withCallerStack(Promise.resolve(i));
  })
  .add('pending entry (with its promise)', () => {
    for (let i = 0; i < N; i++) sink = new Pending(i + 1, 'job', undefined, undefined, 0, undefined, 0);
  })
  .add('id table add + get + delete', () => {
    const t = new IdTable<{ id: number }>(2048);
    const es = new Array<{ id: number }>(N);
    for (let i = 0; i < N; i++) t.add((es[i] = { id: i + 1 }));
    for (let i = 0; i < N; i++) sink = t.get(i + 1);
    for (let i = 0; i < N; i++) t.delete(es[i]!);
  })
  .add('(a Map instead: set + get + delete)', () => {
    const t = new Map<number, { id: number }>();
    for (let i = 0; i < N; i++) t.set(i + 1, { id: i + 1 });
    for (let i = 0; i < N; i++) sink = t.get(i + 1);
    for (let i = 0; i < N; i++) t.delete(i + 1);
  })
  .add('encode the job (class ref + one field)', () => {
    const w = codec.writer;
    for (let i = 0; i < N; i++) {
      w.begin(scratch, 0, 64);
      encodeValue(w, jobs[i], codec.encodeHooks, 'job');
    }
  })
  .add('queue reserve + commit, then claim + release', () => {
    for (let i = 0; i < N; i++) {
      const off = q.reserve();
      q.u8.set(encoded.subarray(0, encodedLen), off);
      q.commit(i + 1, encodedLen, KIND_INLINE, 0, 0, 0);
      consumer.tryClaim();
      consumer.release();
    }
  })
  .add('decode the job', () => {
    for (let i = 0; i < N; i++) {
      workerReader.reset(encoded, 0, encodedLen);
      sink = decodeValue(workerReader, workerHooks);
    }
  })
  .add('result record: write + read + release', () => {
    for (let i = 0; i < N; i++) {
      const off = producer.reserve(resultLen + 4);
      producer.u8.set(resultBytes.subarray(0, resultLen), off + 4);
      producer.commit(1, resultLen + 4);
      producer.publish();
      reader.next();
      reader.advance();
      reader.release();
    }
  })
  .add('decode the result', () => {
    for (let i = 0; i < N; i++) sink = codec.decode(resultBytes, 0, resultLen, 0);
  })
  .add('all of main\'s allocations for 100,000 calls in flight at once, then settled (per call; GC included)', async () => {
    // What "100,000 jobs at once" asks of the heap: every call's entry, promise and wrapper survive
    // young-generation collections until their answer comes (ns per call, 100 loops of 1,000 counted as N).
    const M = 100 * N;
    const live = new Array<Pending>(M);
    const waiting = new Array<Promise<unknown>>(M);
    for (let i = 0; i < M; i++) {
      const p = new Pending(i + 1, 'job', undefined, undefined, 0, undefined, 0);
      live[i] = p;
      waiting[i] = withCallerStack(p.promise!);
    }
    const all = Promise.all(waiting);
    for (let i = 0; i < M; i++) live[i]!.resolve(i);
    sink = await all;
  })
  .add('settle: resolve + the awaiting reaction', async () => {
    const ps = new Array<Promise<unknown>>(N);
    const rs = new Array<(v: unknown) => void>(N);
    for (let i = 0; i < N; i++) ps[i] = new Promise((r) => (rs[i] = r));
    const all = Promise.all(ps);
    for (let i = 0; i < N; i++) rs[i]!(i);
    sink = await all;
  });

if (CELL_INLINE_MAX < encodedLen) throw new Error('the job does not fit a queue cell');
await bench.run();
for (const t of bench.tasks) if ((t.result as { error?: unknown })?.error) console.error(t.name, (t.result as { error?: unknown }).error);
void sink;
const rows = bench.tasks.map((t) => {
  const r = t.result as { latency?: { p50?: number }; period?: number } | undefined;
  const ms = r?.latency?.p50 ?? r?.period ?? NaN;
  return { step: t.name, nsPerStep: (ms * 1e6) / (t.name.includes('100,000') ? 100 * N : N) };
});
if (json) console.log(JSON.stringify({ node: process.version, cpus: os.cpus().length, rows }, null, 2));
else {
  console.log(`per-job steps, ns per step (median), ${process.version}, ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  console.log('| step | ns |\n|---|---:|');
  for (const r of rows) console.log(`| ${r.step} | ${r.nsPerStep.toFixed(0)} |`);
}
