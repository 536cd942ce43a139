// SPSC ring across real threads: a producer worker writes the seeded frame stream (random sizes
// 0..maxPayload, skewed small, each with a sequence number and a checksum) and a consumer worker checks
// that every frame arrives exactly once, in order and intact, through many wrap-arounds and across the
// Int32 overflow of the cursors. Two wait strategies: spinning (both sides only poll; no wake-up
// protocol; every 4096 failed polls a side sleeps 0.1 ms so that a shared, oversubscribed 2-core machine
// still makes progress), and wait/notify (the producer parks in waitForSpace when the ring is full, the
// consumer parks on a doorbell word when it is empty; both in workers, since the main thread must not
// block). A park that runs into its timeout counts as a lost wake-up and fails the test at once.
//
// Counts: 1,000,000 frames per variant at the default scale (STRESS_SCALE=1); STRESS_SCALE multiplies.
import { afterEach, describe, expect, it } from 'vitest';
import { LINE, RING_HEADER_BYTES } from '../../src/ring/layout.js';
import { maxPayload } from '../../src/ring/spsc.js';
import { mainRng, spawn, stressScale, stressSeed, terminateAll } from './ring-stress-env.js';

const PRODUCER = new URL('../fixtures/ring-spsc-producer.mjs', import.meta.url);
const CONSUMER = new URL('../fixtures/ring-spsc-consumer.mjs', import.meta.url);
const FRAMES = Math.round(1_000_000 * stressScale());
const PARK_TIMEOUT_MS = 2000;
const CTRL_BYTES = 96 * 4; // CTRL_WORDS of test/fixtures/ring-frames.mjs
const CTRL_START = 64; // the start gate word (ring-frames.mjs)

interface ProducerReport {
  frames: number;
  ms: number;
  fullRetries: number;
  parks: number;
  parkTimeouts: number;
  notifies: number;
}
interface ConsumerReport {
  received: number;
  errors: number;
  firstError: string;
  extra: number;
  bytes: number;
  ms: number;
  parks: number;
  parkTimeouts: number;
  producerWakes: number;
}

afterEach(terminateAll);

async function run(mode: 'spin' | 'wait', seed: number, capacity: number): Promise<void> {
  const headerOffset = 0;
  const dataOffset = RING_HEADER_BYTES;
  const sab = new SharedArrayBuffer(dataOffset + capacity);
  const i32 = new Int32Array(sab);
  // Start the cursors just below 2^31 (and let them run on across it); the bytes moved by the run
  // take them over the Int32 overflow in the first few laps.
  const start = (2 ** 31 - capacity * 3) | 0;
  i32[0] = start; // head (spsc.ts header table: offset 0)
  i32[LINE / 4] = start; // tail (offset 128)
  const ctrl = new SharedArrayBuffer(CTRL_BYTES);
  const data = { sab, headerOffset, dataOffset, capacity, frames: FRAMES, seed, mode, parkTimeoutMs: PARK_TIMEOUT_MS, ctrl };
  const deadline = 50_000 * Math.max(1, stressScale());
  const producer = spawn<ProducerReport>(PRODUCER, data, deadline);
  const consumer = spawn<ConsumerReport>(CONSUMER, data, deadline);
  const t0 = performance.now();
  const gate = new Int32Array(ctrl);
  Atomics.store(gate, CTRL_START, 1); // open the start gate
  Atomics.notify(gate, CTRL_START);
  // The consumer's report comes first (it knows whether the stream was right); a producer that fails
  // makes the race reject at once, and a consumer that stops early stops the producer too.
  const producerFailed = producer.result.then(() => new Promise<never>(() => {}));
  const c = await Promise.race([consumer.result, producerFailed]);
  const seconds = (performance.now() - t0) / 1000;
  if (c.received !== FRAMES || c.errors > 0) {
    await producer.worker.terminate();
    expect.fail(`consumer stopped after ${c.received} of ${FRAMES} frames: ${c.firstError || `${c.parkTimeouts} park(s) timed out (lost wake-up)`}`);
  }
  const p = await producer.result;
  console.log(
    `[spsc ${mode}] capacity ${capacity}: ${c.received} frames, ${(c.bytes / 2 ** 20).toFixed(1)} MiB payload, ` +
      `~${Math.round(c.bytes / capacity)} laps, ${seconds.toFixed(2)} s (${((c.received / seconds) / 1e6).toFixed(2)} M frames/s); ` +
      `producer full ${p.fullRetries}×, parks ${p.parks}, notifies ${p.notifies}; consumer parks ${c.parks}, producer wakes ${c.producerWakes}`,
  );
  expect(c.firstError).toBe('');
  expect(c.errors).toBe(0);
  expect(c.received).toBe(FRAMES);
  expect(c.extra).toBe(0);
  expect(p.frames).toBe(FRAMES);
  // Lost wake-ups would show up as parks that ran into their timeout.
  expect(p.parkTimeouts).toBe(0);
  expect(c.parkTimeouts).toBe(0);
  // The cursors crossed the Int32 overflow (they started 3 rings below 2^31).
  expect(Atomics.load(i32, 0)).toBeLessThan(0);
  expect(Atomics.load(i32, 0)).toBe(Atomics.load(i32, LINE / 4));
  if (mode === 'wait') expect(p.parks + c.parks).toBeGreaterThan(0);
}

describe('SPSC ring across threads: every frame exactly once, in order, intact', () => {
  it(`spinning producer and consumer (${FRAMES} frames)`, async () => {
    const seed = stressSeed('spsc-spin');
    const capacity = [1024, 2048, 4096][mainRng(seed)() % 3]!;
    expect(maxPayload(capacity)).toBe(capacity / 2 - 8);
    await run('spin', seed, capacity);
  }, 120_000 * Math.max(1, stressScale()));

  it(`parking producer (waitForSpace) and parking consumer (doorbell) (${FRAMES} frames)`, async () => {
    const seed = stressSeed('spsc-wait');
    const capacity = [1024, 2048, 4096][mainRng(seed)() % 3]!;
    await run('wait', seed, capacity);
  }, 120_000 * Math.max(1, stressScale()));
});
