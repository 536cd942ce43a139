// Model-based randomized test over the public API (fast-check commands) with real workers: dispatch
// (any worker or pinned), batches (dispatchAll / dispatchAllSettled in chunks), invoke, addInstance, destroyInstance, kill, addIsolate, abort, timeout, probe,
// big payloads (>= 64 KiB non-shared buffers and arrays on the workgroup's shared memory) and shutdown,
// interleaved without awaiting the jobs. After each run:
//  - every promise settled (within a bound; a hang fails with the operations still pending),
//  - no job or call ran twice (per-operation run counters in a SharedArrayBuffer the jobs carry),
//  - every result names its operation and carries the checksum of the payload bytes it was sent,
//  - an operation rejects only when the run gave it a reason (abort, timeout, kill, destroy, shutdown),
//  - pendingCount and the shared-memory blocks in use return to 0.
//
// Seed: printed on every run; replay with MODEL_SEED=<seed> (MODEL_RUNS=<n> runs, MODEL_MS=<ms> time budget,
// MODEL_VERBOSE=1 prints a line per run). No shrinking: a failing run is reported as generated.
import fc, { type AsyncCommand } from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as Lib from '../../src/index.js';
import { lib, within } from '../integration/helpers.js';

const defectsUrl = new URL('../fixtures/defects.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const d = (await import(defectsUrl.href)) as any;

const SEED = process.env.MODEL_SEED !== undefined ? Number(process.env.MODEL_SEED) | 0 : (Math.random() * 0x7fffffff) | 0;
const RUNS = process.env.MODEL_RUNS !== undefined ? Number(process.env.MODEL_RUNS) : 12;
/** Time budget: runs that would start after it are skipped (the runs done still count), so CI stays ~30 s. */
const BUDGET_MS = process.env.MODEL_MS !== undefined ? Number(process.env.MODEL_MS) : 25_000;
const MAX_OPS = 400;
/** Most jobs in one generated batch (each is an operation of the model). */
const BATCH_MAX = 12;
const BIG = 64 * 1024;

type Payload = 'none' | 'small' | 'big' | 'arena';

interface Op {
  readonly what: string;
  readonly slot: number;
  readonly expectedSum: number;
  /** Set when the run gave this operation a reason to reject. */
  mayFail: boolean;
  worker: number; // pinned worker, or -1
  member: number; // member key for invokes, or -1
  settles: number;
  outcome: 'pending' | 'fulfilled' | 'rejected';
  value?: unknown;
  error?: unknown;
}

interface Model {
  live: number[]; // live worker indices
  members: Map<number, number>; // member key -> worker index
  nextMember: number;
  shutdown: boolean;
}

interface Real {
  wg: Lib.IsolateWorkgroup;
  counters: Int32Array;
  ops: Op[];
  proxies: Map<number, Lib.MemberProxy<Lib.WorkgroupMember>>;
  arrays: Uint8Array[];
  log: string[];
  /** Operations not awaited by their command (destroyInstance in the background): each must resolve. */
  background: Promise<unknown>[];
}

function payloadFor(real: Real, kind: Payload, seed: number): { data: unknown; sum: number; release?: () => void } {
  if (kind === 'none') return { data: undefined, sum: 0 };
  if (kind === 'small') {
    const u8 = d.patterned(64, seed) as Uint8Array;
    return { data: u8.buffer, sum: d.checksum(u8) as number };
  }
  if (kind === 'big') {
    const u8 = d.patterned(BIG + (seed % 4096), seed) as Uint8Array;
    return { data: u8.buffer, sum: d.checksum(u8) as number };
  }
  const arr = real.wg.allocate(Uint8Array, BIG + (seed % 1024));
  arr.set(d.patterned(arr.length, seed) as Uint8Array);
  real.arrays.push(arr);
  return { data: arr, sum: d.checksum(arr) as number, release: () => real.wg.release(arr) };
}

function track(real: Real, op: Op, p: Promise<unknown>, after?: () => void): void {
  real.ops.push(op);
  p.then(
    (v) => {
      op.settles++;
      op.outcome = 'fulfilled';
      op.value = v;
      after?.();
    },
    (e) => {
      op.settles++;
      op.outcome = 'rejected';
      op.error = e;
      after?.();
    },
  );
}

class DispatchCmd implements AsyncCommand<Model, Real> {
  readonly pinPick: number | undefined;
  readonly payload: Payload;
  readonly ms: number;
  readonly cancel: 'none' | 'abort-now' | 'abort-later' | 'timeout';
  constructor(pinPick: number | undefined, payload: Payload, ms: number, cancel: 'none' | 'abort-now' | 'abort-later' | 'timeout') {
    this.pinPick = pinPick;
    this.payload = payload;
    this.ms = ms;
    this.cancel = cancel;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && (this.pinPick === undefined || m.live.length > 0);
  }
  async run(m: Model, r: Real): Promise<void> {
    const slot = r.ops.length;
    const worker = this.pinPick === undefined ? -1 : m.live[this.pinPick % m.live.length]!;
    const pl = payloadFor(r, this.payload, slot + 1);
    const ac = this.cancel === 'abort-now' || this.cancel === 'abort-later' ? new AbortController() : undefined;
    const op: Op = { what: this.toString(), slot, expectedSum: pl.sum, mayFail: this.cancel !== 'none', worker, member: -1, settles: 0, outcome: 'pending' };
    const p = r.wg.dispatch(new d.Check(r.counters, slot, pl.data, this.ms), {
      ...(worker === -1 ? {} : { isolate: worker }), // (-1 in the model: any worker, expressed by leaving the index out)
      ...(ac ? { signal: ac.signal } : {}),
      ...(this.cancel === 'timeout' ? { timeout: Math.max(1, Math.abs(this.ms) >> 1) } : {}),
    });
    track(r, op, p, pl.release);
    if (this.cancel === 'abort-now') ac!.abort();
    if (this.cancel === 'abort-later') setTimeout(() => ac!.abort(), Math.abs(this.ms) >> 1);
  }
  toString(): string {
    return `dispatch(pin=${this.pinPick ?? 'any'}, ${this.payload}, ${this.ms} ms, ${this.cancel})`;
  }
}

/** A batch of jobs for any worker: each job is an operation of the model, settled by the batch. */
class BatchCmd implements AsyncCommand<Model, Real> {
  readonly size: number;
  readonly chunkSize: number | undefined;
  readonly settled: boolean;
  readonly payload: Payload;
  readonly ms: number;
  readonly cancel: 'none' | 'abort-later' | 'timeout';
  constructor(size: number, chunkSize: number | undefined, settled: boolean, payload: Payload, ms: number, cancel: 'none' | 'abort-later' | 'timeout') {
    this.size = size;
    this.chunkSize = chunkSize;
    this.settled = settled;
    this.payload = payload === 'arena' ? 'small' : payload; // (an arena array is released per operation)
    this.ms = ms;
    this.cancel = cancel;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown;
  }
  async run(_m: Model, r: Real): Promise<void> {
    const ops: Op[] = [];
    const jobs: unknown[] = [];
    for (let k = 0; k < this.size; k++) {
      const slot = r.ops.length + ops.length;
      const pl = payloadFor(r, this.payload, slot + 1);
      ops.push({ what: `${this.toString()}[${k}]`, slot, expectedSum: pl.sum, mayFail: this.cancel !== 'none', worker: -1, member: -1, settles: 0, outcome: 'pending' });
      jobs.push(new d.Check(r.counters, slot, pl.data, this.ms));
    }
    const ac = this.cancel === 'abort-later' ? new AbortController() : undefined;
    const options = {
      ...(this.chunkSize === undefined ? {} : { chunkSize: this.chunkSize }),
      ...(ac ? { signal: ac.signal } : {}),
      ...(this.cancel === 'timeout' ? { timeout: Math.max(1, Math.abs(this.ms) * 2) } : {}),
    };
    r.ops.push(...ops);
    const settle = (op: Op, ok: boolean, v: unknown): void => {
      op.settles++;
      op.outcome = ok ? 'fulfilled' : 'rejected';
      if (ok) op.value = v;
      else op.error = v;
    };
    if (this.settled) {
      r.wg.dispatchAllSettled(jobs as Lib.WorkgroupJob[], options).then(
        (outs) => outs.forEach((o, k) => settle(ops[k]!, o.status === 'fulfilled', o.status === 'fulfilled' ? o.value : o.reason)),
        (e: unknown) => ops.forEach((op) => settle(op, false, e)), // only a refusal of the whole batch (shut down)
      );
    } else {
      r.wg.dispatchAll(jobs as Lib.WorkgroupJob[], options).then(
        (values) => values.forEach((v, k) => settle(ops[k]!, true, v)),
        (e: unknown) => ops.forEach((op) => settle(op, false, e)),
      );
    }
    if (ac) setTimeout(() => ac.abort(), Math.abs(this.ms) >> 1);
  }
  toString(): string {
    return `${this.settled ? 'dispatchAllSettled' : 'dispatchAll'}(${this.size} jobs, chunk ${this.chunkSize ?? 'auto'}, ${this.payload}, ${this.ms} ms, ${this.cancel})`;
  }
}

class InvokeCmd implements AsyncCommand<Model, Real> {
  readonly pick: number;
  readonly payload: Payload;
  readonly abort: boolean;
  constructor(pick: number, payload: Payload, abort: boolean) {
    this.pick = pick;
    this.payload = payload;
    this.abort = abort;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && m.members.size > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const keys = [...m.members.keys()];
    const key = keys[this.pick % keys.length]!;
    const slot = r.ops.length;
    const pl = payloadFor(r, this.payload, slot + 1);
    const ac = this.abort ? new AbortController() : undefined;
    const op: Op = { what: this.toString(), slot, expectedSum: pl.sum, mayFail: this.abort, worker: m.members.get(key)!, member: key, settles: 0, outcome: 'pending' };
    track(r, op, r.proxies.get(key)!.invoke(new d.CheckCommand(r.counters, slot, pl.data), ac ? { signal: ac.signal } : {}), pl.release);
    ac?.abort();
  }
  toString(): string {
    return `invoke(${this.pick}, ${this.payload}, abort=${this.abort})`;
  }
}

class AddInstanceCmd implements AsyncCommand<Model, Real> {
  readonly pinPick: number | undefined;
  constructor(pinPick: number | undefined) {
    this.pinPick = pinPick;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && m.live.length > 0 && m.members.size < 6;
  }
  async run(m: Model, r: Real): Promise<void> {
    const isolate = this.pinPick === undefined ? undefined : m.live[this.pinPick % m.live.length]!;
    const proxy = await within(r.wg.addInstance(new d.Checker(), isolate === undefined ? {} : { isolate }), 10_000, this.toString());
    expect(m.live).toContain(proxy.isolateIndex);
    const key = m.nextMember++;
    m.members.set(key, proxy.isolateIndex);
    r.proxies.set(key, proxy as Lib.MemberProxy<Lib.WorkgroupMember>);
  }
  toString(): string {
    return `addInstance(${this.pinPick ?? 'any'})`;
  }
}

class DestroyInstanceCmd implements AsyncCommand<Model, Real> {
  readonly pick: number;
  readonly wait: boolean;
  constructor(pick: number, wait: boolean) {
    this.pick = pick;
    this.wait = wait;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && m.members.size > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const keys = [...m.members.keys()];
    const key = keys[this.pick % keys.length]!;
    for (const op of r.ops) if (op.member === key && op.outcome === 'pending') op.mayFail = true;
    m.members.delete(key);
    const done = r.wg.destroyInstance(r.proxies.get(key)!);
    r.proxies.delete(key);
    if (this.wait) await within(done, 10_000, this.toString());
    else r.background.push(within(done, 15_000, `${this.toString()} (not awaited)`)); // later work runs while it is on its way
  }
  toString(): string {
    return `destroyInstance(${this.pick}, ${this.wait ? 'awaited' : 'in the background'})`;
  }
}

class KillCmd implements AsyncCommand<Model, Real> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && m.live.length > 1;
  }
  async run(m: Model, r: Real): Promise<void> {
    const index = m.live[this.pick % m.live.length]!;
    // What it runs is rejected: pinned work, its members' calls, and whichever queued job it took.
    for (const op of r.ops) if (op.outcome === 'pending' && (op.worker === index || op.worker === -1)) op.mayFail = true;
    for (const [key, w] of [...m.members]) if (w === index) m.members.delete(key);
    m.live = m.live.filter((i) => i !== index);
    await within(r.wg.kill(index), 10_000, this.toString());
    expect(r.wg.liveIsolateCount).toBe(m.live.length);
  }
  toString(): string {
    return `kill(${this.pick})`;
  }
}

class AddIsolateCmd implements AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && m.live.length < 4;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.wg.isolatesCount;
    const index = await within(r.wg.addIsolate(), 15_000, 'addIsolate()');
    expect(index).toBe(before);
    m.live.push(index);
    expect(r.wg.liveIsolateCount).toBe(m.live.length);
  }
  toString(): string {
    return 'addIsolate()';
  }
}

class ProbeCmd implements AsyncCommand<Model, Real> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown && m.live.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const index = m.live[this.pick % m.live.length]!;
    expect(await within(r.wg.probe(index), 10_000, this.toString())).toBe(true);
  }
  toString(): string {
    return `probe(${this.pick})`;
  }
}

/** The last step of every run (not a generated command: it would end most runs early). */
class ShutdownCmd implements AsyncCommand<Model, Real> {
  readonly drain: boolean;
  constructor(drain: boolean) {
    this.drain = drain;
  }
  check(m: Readonly<Model>): boolean {
    return !m.shutdown;
  }
  async run(m: Model, r: Real): Promise<void> {
    if (!this.drain) for (const op of r.ops) if (op.outcome === 'pending') op.mayFail = true;
    m.shutdown = true;
    await within(r.wg.shutdown({ drain: this.drain }), 15_000, this.toString());
  }
  toString(): string {
    return `shutdown(drain=${this.drain})`;
  }
}

const pin = fc.option(fc.nat(7), { nil: undefined });
const payload = fc.constantFrom<Payload>('none', 'small', 'small', 'big', 'arena');
const dispatchCmd = fc
  .tuple(pin, payload, fc.constantFrom(0, 0, 5, 40, -30), fc.constantFrom('none', 'none', 'none', 'none', 'none', 'none', 'abort-now', 'abort-later', 'timeout') as fc.Arbitrary<'none' | 'abort-now' | 'abort-later' | 'timeout'>)
  .map(([p, pl, ms, c]) => new DispatchCmd(p, pl, ms, c));
const invokeCmd = fc.tuple(fc.nat(7), payload, fc.boolean()).map(([k, pl, a]) => new InvokeCmd(k, pl, a));
const batchCmd = fc
  .tuple(
    fc.integer({ min: 1, max: BATCH_MAX }),
    fc.constantFrom<number | undefined>(undefined, undefined, 1, 3, 64),
    fc.boolean(),
    payload,
    fc.constantFrom(0, 0, 5, -10),
    fc.constantFrom('none', 'none', 'none', 'abort-later', 'timeout') as fc.Arbitrary<'none' | 'abort-later' | 'timeout'>,
  )
  .map(([n, c, st, pl, ms, cancel]) => new BatchCmd(n, c, st, pl, ms, cancel));
// Weighted by repetition: mostly work, sometimes a change of membership or workers.
const commands = [
  dispatchCmd,
  dispatchCmd,
  dispatchCmd,
  dispatchCmd,
  invokeCmd,
  invokeCmd,
  batchCmd,
  batchCmd,
  pin.map((p) => new AddInstanceCmd(p)),
  fc.tuple(fc.nat(7), fc.boolean()).map(([k, w]) => new DestroyInstanceCmd(k, w)),
  fc.nat(7).map((k) => new KillCmd(k)),
  fc.constant(new AddIsolateCmd()),
  fc.nat(7).map((k) => new ProbeCmd(k)),
];
/** How a run ends: let everything settle and check the counters before shutting down, or shut down with work in flight. */
type Ending = 'settle-then-shutdown' | 'shutdown' | 'shutdown-drain';
const ending = fc.constantFrom<Ending>('settle-then-shutdown', 'settle-then-shutdown', 'shutdown', 'shutdown-drain');

async function checkRun(r: Real): Promise<void> {
  const pendingOps = () => r.ops.filter((o) => o.outcome === 'pending');
  const end = Date.now() + 15_000;
  while (pendingOps().length > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
  await Promise.all(r.background.splice(0));
  const hung = pendingOps();
  if (hung.length > 0) throw new Error(`${hung.length} operations never settled, e.g. ${hung.slice(0, 5).map((o) => `#${o.slot} ${o.what}`).join('; ')}\n${r.log.join('\n')}`);
  for (const op of r.ops) {
    const runs = Atomics.load(r.counters, op.slot);
    expect(op.settles, `#${op.slot} ${op.what} settled more than once`).toBe(1);
    expect(runs, `#${op.slot} ${op.what} ran ${runs} times`).toBeLessThanOrEqual(1);
    if (op.outcome === 'fulfilled') {
      expect(runs, `#${op.slot} ${op.what} resolved without running`).toBe(1);
      expect(op.value, `#${op.slot} ${op.what}: wrong result or payload bytes`).toEqual({ slot: op.slot, sum: op.expectedSum });
    } else {
      const e = op.error as Error;
      expect(op.mayFail, `#${op.slot} ${op.what} rejected with no reason: ${e?.name}: ${e?.message}`).toBe(true);
      expect(e, `#${op.slot} ${op.what} rejected with a non-workgroup error: ${String(e)}`).toBeInstanceOf(lib.WorkgroupException);
    }
  }
  if (r.wg.state !== 'disposed') {
    await within(
      (async () => {
        while (r.wg.pendingCount > 0) await new Promise((res) => setTimeout(res, 10));
      })(),
      5000,
      'pendingCount returning to 0',
    );
    const end2 = Date.now() + 5000;
    while (r.wg.stats().sharedMemory.liveBlocks !== 0 && Date.now() < end2) await new Promise((res) => setTimeout(res, 10));
    expect(r.wg.stats().sharedMemory.liveBlocks, 'shared-memory blocks still in use after every operation settled').toBe(0);
  }
  expect(r.wg.pendingCount).toBe(0);
}

describe('model-based run of the public API against real workers', () => {
  it(`every operation settles once with the right result (seed ${SEED}, ${RUNS} runs; replay with MODEL_SEED=${SEED})`, async () => {
    console.log(`[public-api-model] seed ${SEED}, ${RUNS} runs (replay: MODEL_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'max' }), ending, async (cmds, end) => {
        const wg = new lib.IsolateWorkgroup(2, { modules: [defectsUrl], concurrency: 2, queueCapacity: 8, cancelGraceMs: 300, respawn: false });
        await within(wg.launch(), 15_000, 'launch()');
        const real: Real = { wg, counters: new Int32Array(new SharedArrayBuffer(4 * MAX_OPS * BATCH_MAX)), ops: [], proxies: new Map(), arrays: [], log: [], background: [] };
        const model: Model = { live: [0, 1], members: new Map(), nextMember: 1, shutdown: false };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          if (end === 'settle-then-shutdown') await checkRun(real);
          await new ShutdownCmd(end === 'shutdown-drain').run(model, real);
          await checkRun(real);
          const ok = real.ops.filter((o) => o.outcome === 'fulfilled').length;
          if (process.env.MODEL_VERBOSE) console.log(`[public-api-model] run: ${real.ops.length} operations, ${ok} fulfilled, ${real.ops.length - ok} rejected, ${end}`);
        } finally {
          await within(wg.shutdown(), 15_000, 'final shutdown()').catch(() => undefined);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: BUDGET_MS },
    );
  }, 240_000);
});
