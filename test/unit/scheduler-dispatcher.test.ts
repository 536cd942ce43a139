import { describe, expect, it } from 'vitest';
import { Arena, createArenaBuffer } from '../../src/memory/arena.js';
import { JobQueueConsumer } from '../../src/ring/job-queue.js';
import { createPoolRegion } from '../../src/ring/layout.js';
import { Dispatcher } from '../../src/scheduler/dispatcher.js';
import { MainCodec } from '../../src/scheduler/main-codec.js';
import { PendingTable, type Pending } from '../../src/scheduler/pending.js';
import { WorkerSet } from '../../src/scheduler/worker-set.js';

function setup(capacity: number, arenaBytes = 4 << 20) {
  const pool = createPoolRegion(2, capacity);
  const arena = new Arena(createArenaBuffer({ initialBytes: arenaBytes, maxBytes: arenaBytes, maxOwners: 3 }), 0);
  const codec = new MainCodec(pool, arena);
  const pending = new PendingTable(() => undefined, () => undefined);
  const d = new Dispatcher(pool, codec, arena, pending, new WorkerSet(2));
  const consumer = new JobQueueConsumer(pool, 0);
  const send = (value: unknown): Pending => {
    const p = pending.create('job', undefined, undefined, 0);
    const promise = p.promise!;
    promise.catch(() => undefined);
    d.enqueue(p, value);
    pending.add(p);
    return p;
  };
  /** Claims every published job; returns their ids in order. */
  const claimAll = (): number[] => {
    const ids: number[] = [];
    while (consumer.tryClaim() === 1) {
      ids.push(consumer.jobId);
      consumer.release();
    }
    return ids;
  };
  return { d, pending, arena, send, claimAll };
}

describe('dispatcher', () => {
  it('fills the shared queue, keeps the rest in its backlog, and refills in FIFO order as cells free up', () => {
    const { d, send, claimAll } = setup(4);
    const sent = Array.from({ length: 10 }, (_, i) => send({ n: i }));
    expect(sent.slice(0, 4).every((p) => p.status === 'queued')).toBe(true);
    expect(sent.slice(4).every((p) => p.status === 'backlog')).toBe(true);
    expect(d.queuedCount).toBe(10);
    const order: number[] = [];
    for (let round = 0; round < 4 && order.length < 10; round++) {
      order.push(...claimAll());
      d.refill();
    }
    expect(order).toEqual(sent.map((p) => p.id));
    expect(d.queuedCount).toBe(0);
    expect(d.hasBacklog).toBe(false);
  });

  it('takes back a job nobody claimed (backlog or queue cell), never one a worker claimed', () => {
    const { d, send, claimAll } = setup(2);
    const [a, b, c] = [send({ n: 1 }), send({ n: 2 }), send({ n: 3 })];
    expect(c!.status).toBe('backlog');
    expect(d.takeBack(c!)).toBe(true); // from the backlog
    expect(d.takeBack(b!)).toBe(true); // from its cell: a worker now finds an empty cell and skips it
    expect(claimAll()).toEqual([a!.id, 0]);
    expect(d.takeBack(a!)).toBe(false); // claimed: only the worker can stop it now
  });

  it('a big backlog job that finds the arena full is handed to onUnplaceable; the refill goes on and never throws', () => {
    const { d, arena, send, claimAll } = setup(2, 1 << 20);
    const unplaceable: Array<[number, unknown]> = [];
    d.onUnplaceable = (p, e) => unplaceable.push([p.id, e]);
    const first = [send({ n: 1 }), send({ n: 2 })];
    const big = send({ s: 'x'.repeat(300) }); // over a cell's inline size: the refill puts it in the arena
    const small = send({ n: 3 });
    // Fill the arena so that the big job finds no room.
    const taken = [];
    for (;;) {
      try {
        taken.push(arena.alloc(64 * 1024));
      } catch {
        break;
      }
    }
    for (;;) {
      try {
        taken.push(arena.alloc(1024));
      } catch {
        break;
      }
    }
    expect(claimAll()).toEqual(first.map((p) => p.id));
    expect(() => d.refill()).not.toThrow();
    expect(unplaceable.map(([id]) => id)).toEqual([big.id]);
    expect(unplaceable[0]![1]).toBeInstanceOf(RangeError); // ArenaExhaustedError, a RangeError
    expect(claimAll()).toEqual([small.id]);
  });
});
