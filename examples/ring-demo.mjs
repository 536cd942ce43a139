// Pushes 1,000,000 frames through a SharedArrayBuffer SPSC ring, from a worker thread to the main thread,
// and prints the rate.
//
//   node scripts/build.mjs && node examples/ring-demo.mjs
//
// The worker produces: it writes each 16-byte frame in place, publishes it with one Atomics.store, and
// wakes the main thread only if main said it is parked. When the ring is full it parks in waitForSpace.
// The main thread consumes: it drains everything published, checks each frame's sequence number, and
// when the ring is empty it spins a little, then *awaits* Atomics.waitAsync — the main thread never blocks.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { RING_HEADER_BYTES } from '../dist/ring/layout.js';
import { SpscConsumer, SpscProducer } from '../dist/ring/spsc.js';

const FRAMES = 1_000_000;
const PAYLOAD = 16;
const CAPACITY = 64 * 1024;
// Region: [ring header][ring bytes][doorbell word][... 128 bytes ...][main-parked word]
const DATA = RING_HEADER_BYTES;
const BELL = (DATA + CAPACITY) / 4; // i32 index: bumped by the worker to wake main
const PARKED = BELL + 32; // i32 index, on its own 128-byte line: 1 while main is (about to be) parked

if (isMainThread) {
  const sab = new SharedArrayBuffer(DATA + CAPACITY + 256);
  const i32 = new Int32Array(sab);
  const u32 = new Uint32Array(sab);
  const ring = new SpscConsumer(sab, 0, DATA, CAPACITY);
  const worker = new Worker(new URL(import.meta.url), { workerData: { sab } });
  const exited = new Promise((resolve) => worker.once('exit', resolve));

  let received = 0;
  let parks = 0;
  let started = 0;
  while (received < FRAMES) {
    // Drain everything that is published, giving space back every 64 frames.
    let off;
    while ((off = ring.next()) >= 0) {
      if (received === 0) started = performance.now();
      if (u32[off >> 2] !== received) throw new Error(`frame ${received} arrived out of order`);
      received++;
      ring.advance();
      if ((received & 63) === 0 && ring.release()) ring.notifyProducer();
    }
    if (ring.release()) ring.notifyProducer();
    if (received === FRAMES) break;
    // Empty: spin briefly, then park without blocking (flag, re-check, await waitAsync).
    for (let spin = 0; spin < 2000 && ring.isEmpty; spin++);
    if (!ring.isEmpty) continue;
    const bell = Atomics.load(i32, BELL);
    Atomics.store(i32, PARKED, 1);
    if (ring.isEmpty) {
      parks++;
      await Atomics.waitAsync(i32, BELL, bell, 100).value;
    }
    Atomics.store(i32, PARKED, 0);
  }
  const seconds = (performance.now() - started) / 1000;
  await exited;
  console.log(
    `${received.toLocaleString('en-US')} frames of ${PAYLOAD} bytes, worker -> main, in ${(seconds * 1000).toFixed(0)} ms: ` +
      `${(received / seconds / 1e6).toFixed(2)} M frames/s (main parked ${parks} times)`,
  );
} else {
  const { sab } = workerData;
  const i32 = new Int32Array(sab);
  const u32 = new Uint32Array(sab);
  const ring = new SpscProducer(sab, 0, DATA, CAPACITY);
  const wakeMain = () => {
    // Only the thread that takes the "parked" token pays for the notify.
    if (Atomics.load(i32, PARKED) === 1 && Atomics.compareExchange(i32, PARKED, 1, 0) === 1) {
      Atomics.add(i32, BELL, 1);
      Atomics.notify(i32, BELL);
    }
  };
  for (let seq = 0; seq < FRAMES; seq++) {
    let off;
    while ((off = ring.reserve(PAYLOAD)) < 0) {
      wakeMain(); // main must be awake to make room
      ring.waitForSpace(2 * (8 + PAYLOAD), 100);
    }
    u32[off >> 2] = seq; // write the payload in place ...
    ring.commit(1, PAYLOAD);
    ring.publish(); // ... then publish it with one Atomics.store
    wakeMain();
  }
}
