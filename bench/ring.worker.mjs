// Worker side of bench/ring.bench.ts: one role per worker (see `roles` below), chosen by workerData.
// Every role checks what it receives (sequence numbers) and reports a count of mismatches with its
// timings, so the benchmark can refuse numbers from a run that was not correct.
//
// Wait strategies (both directions use the same one):
//   spin         the waiter polls the ring; the waker does nothing.
//   spin-wait    the waiter polls up to SPIN_ITERATIONS, then parks: reads the doorbell, sets its parked
//                flag, re-checks the ring, Atomics.wait(doorbell); the waker, after publishing, takes the
//                wake token (CAS parked 1→0) and only then bumps the doorbell and notifies.
//   wait         the waiter parks whenever the ring is empty (no spin); the waker bumps the doorbell and
//                notifies after every publish.
//
// Control words (Int32Array over workerData.ctrl), one 128-byte line each:
// | index | field                          | writer           | reader | Atomics op            |
// |-------|--------------------------------|------------------|--------|-----------------------|
// | 0     | doorbell of side A (requests)  | the other side   | A      | add / wait / notify   |
// | 32    | parked flag of side A          | A set, waker CAS | both   | store / compareExchange |
// | 64    | doorbell of side B (responses) | the other side   | B      | add / wait / notify   |
// | 96    | parked flag of side B          | B set, waker CAS | both   | store / compareExchange |
// | 128   | start gate                     | main             | both   | store / notify / wait |
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { SpscConsumer, SpscProducer } from '../dist/ring/spsc.js';

const SPIN_ITERATIONS = 4000;
const PARK_TIMEOUT_MS = 1000;
const START = 128;
const PAYLOAD = 16;
const TYPE = 1;

const ctrl = new Int32Array(workerData.ctrl);

/** Little-endian u32 at the start of a (cloned, non-shared) Uint8Array message. */
function readU32(u8) {
  return (u8[0] | (u8[1] << 8) | (u8[2] << 16) | (u8[3] << 24)) >>> 0;
}

function awaitStart() {
  while (Atomics.load(ctrl, START) === 0) Atomics.wait(ctrl, START, 0, 1000);
}

/** The waiting half of a strategy for one ring: returns the next record's offset, blocking as the strategy says. */
function makeReceiver(consumer, strategy, bell, parked, stats) {
  if (strategy === 'spin') {
    return () => {
      let off;
      while ((off = consumer.next()) < 0);
      return off;
    };
  }
  const spin = strategy === 'spin-wait' ? SPIN_ITERATIONS : 0;
  return () => {
    for (;;) {
      for (let i = 0; i <= spin; i++) {
        const off = consumer.next();
        if (off >= 0) return off;
      }
      const d = Atomics.load(ctrl, bell);
      if (strategy === 'spin-wait') Atomics.store(ctrl, parked, 1);
      if (!consumer.isEmpty) {
        if (strategy === 'spin-wait') Atomics.store(ctrl, parked, 0);
        continue;
      }
      Atomics.wait(ctrl, bell, d, PARK_TIMEOUT_MS);
      if (strategy === 'spin-wait') Atomics.store(ctrl, parked, 0);
      stats.parks++;
    }
  };
}

/** The waking half: called after a publish, wakes the other side as the strategy says. */
function makeWaker(strategy, bell, parked, stats) {
  if (strategy === 'spin') return () => {};
  if (strategy === 'spin-wait') {
    return () => {
      // A plain load first (cheap, and after the publishing store it is ordered: SC atomics); the CAS
      // only when the other side says it is parked, so a single waker pays for the notify.
      if (Atomics.load(ctrl, parked) === 1 && Atomics.compareExchange(ctrl, parked, 1, 0) === 1) {
        Atomics.add(ctrl, bell, 1);
        Atomics.notify(ctrl, bell);
        stats.notifies++;
      }
    };
  }
  return () => {
    Atomics.add(ctrl, bell, 1);
    Atomics.notify(ctrl, bell);
    stats.notifies++;
  };
}

function ringAt(sab, index, capacity, Side) {
  // Region: [header A (384 B)][header B (384 B)][data A][data B]
  return new Side(sab, index * 384, 768 + index * capacity, capacity);
}

const roles = {
  /**
   * Pipelined producer: `frames` frames of 16 bytes, each carrying its sequence number (words 0 and 3).
   * Publishes every `batch` frames (1 = every frame), and always before it waits for space.
   */
  'pipe-producer'() {
    const { sab, capacity, frames, strategy, batch } = workerData;
    const p = ringAt(sab, 0, capacity, SpscProducer);
    const stats = { parks: 0, notifies: 0 };
    const wake = makeWaker(strategy, 0, 32, stats);
    const u32 = new Uint32Array(sab);
    awaitStart();
    let unpublished = 0;
    for (let seq = 0; seq < frames; seq++) {
      let off = p.reserve(PAYLOAD);
      let spins = 0;
      while (off < 0) {
        p.publish();
        unpublished = 0;
        wake(); // what is published must be seen before this side waits
        if (strategy !== 'spin' && spins++ >= (strategy === 'spin-wait' ? SPIN_ITERATIONS : 0)) {
          p.waitForSpace(2 * (8 + PAYLOAD), PARK_TIMEOUT_MS);
          stats.parks++;
        }
        off = p.reserve(PAYLOAD);
      }
      const w = off >> 2;
      u32[w] = seq;
      u32[w + 3] = ~seq;
      p.commit(TYPE, PAYLOAD);
      if (++unpublished >= batch) {
        p.publish();
        unpublished = 0;
        wake();
      }
    }
    p.publish();
    wake();
    parentPort.postMessage({ role: 'pipe-producer', ...stats });
  },

  /** Pipelined consumer: checks every sequence number; times the frames after the first 10% (warm-up). */
  'pipe-consumer'() {
    const { sab, capacity, frames, strategy } = workerData;
    const c = ringAt(sab, 0, capacity, SpscConsumer);
    const stats = { parks: 0, notifies: 0 };
    const receive = makeReceiver(c, strategy, 0, 32, stats);
    const u32 = new Uint32Array(sab);
    const warm = Math.floor(frames / 10);
    let errors = 0;
    let t0 = 0;
    let pending = 0;
    awaitStart();
    for (let seq = 0; seq < frames; seq++) {
      if (seq === warm) t0 = performance.now();
      let off = c.next();
      if (off < 0) {
        // Empty: give the space back (waking a producer that waits for it) before waiting.
        if (c.release()) c.notifyProducer();
        pending = 0;
        off = receive();
      }
      const w = off >> 2;
      if (u32[w] !== seq >>> 0 || u32[w + 3] !== ~seq >>> 0 || c.length !== PAYLOAD) errors++;
      c.advance();
      if (++pending === 64) {
        if (c.release()) c.notifyProducer();
        pending = 0;
      }
    }
    const ms = performance.now() - t0;
    if (c.release()) c.notifyProducer();
    parentPort.postMessage({ role: 'pipe-consumer', errors, timedFrames: frames - warm, ms, ...stats });
  },

  /** Round-trip client: sends request i, waits for response i, records the time; first 10% discarded. */
  'rt-client'() {
    const { sab, capacity, iterations, strategy } = workerData;
    const req = ringAt(sab, 0, capacity, SpscProducer);
    const resp = ringAt(sab, 1, capacity, SpscConsumer);
    const stats = { parks: 0, notifies: 0 };
    const wakeServer = makeWaker(strategy, 0, 32, stats);
    const receive = makeReceiver(resp, strategy, 64, 96, stats);
    const u32 = new Uint32Array(sab);
    const warm = Math.floor(iterations / 10);
    const samples = new Float64Array(iterations - warm);
    let errors = 0;
    awaitStart();
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      const off = req.reserve(PAYLOAD);
      if (off < 0) throw new Error('request ring full in a ping-pong');
      u32[off >> 2] = i;
      req.commit(TYPE, PAYLOAD);
      req.publish();
      wakeServer();
      const r = receive();
      if (u32[r >> 2] !== i >>> 0) errors++;
      resp.advance();
      resp.release();
      const t = performance.now() - t0;
      if (i >= warm) samples[i - warm] = t;
    }
    // Stop the server: a frame of type 2.
    req.reserve(0);
    req.commit(2, 0);
    req.publish();
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    parentPort.postMessage({ role: 'rt-client', errors, samples, ...stats }, [samples.buffer]);
  },

  /** Round-trip server: echoes every request's sequence number until a type-2 frame. */
  'rt-server'() {
    const { sab, capacity, strategy } = workerData;
    const req = ringAt(sab, 0, capacity, SpscConsumer);
    const resp = ringAt(sab, 1, capacity, SpscProducer);
    const stats = { parks: 0, notifies: 0 };
    const receive = makeReceiver(req, strategy, 0, 32, stats);
    const wakeClient = makeWaker(strategy, 64, 96, stats);
    const u32 = new Uint32Array(sab);
    awaitStart();
    for (;;) {
      const off = receive();
      if (req.type === 2) break;
      const seq = u32[off >> 2];
      req.advance();
      req.release();
      const w = resp.reserve(PAYLOAD);
      if (w < 0) throw new Error('response ring full in a ping-pong');
      u32[w >> 2] = seq;
      resp.commit(TYPE, PAYLOAD);
      resp.publish();
      wakeClient();
    }
    parentPort.postMessage({ role: 'rt-server', ...stats });
  },

  /**
   * Round-trip server for the main-thread client: parks with spin-then-wait; wakes main by bumping the
   * response doorbell, which main awaits with Atomics.waitAsync (main never blocks).
   */
  'rt-server-main'() {
    const { sab, capacity } = workerData;
    const req = ringAt(sab, 0, capacity, SpscConsumer);
    const resp = ringAt(sab, 1, capacity, SpscProducer);
    const stats = { parks: 0, notifies: 0 };
    const receive = makeReceiver(req, 'spin-wait', 0, 32, stats);
    const u32 = new Uint32Array(sab);
    awaitStart();
    for (;;) {
      const off = receive();
      if (req.type === 2) break;
      const seq = u32[off >> 2];
      req.advance();
      req.release();
      const w = resp.reserve(PAYLOAD);
      u32[w >> 2] = seq;
      resp.commit(TYPE, PAYLOAD);
      resp.publish();
      Atomics.add(ctrl, 64, 1);
      Atomics.notify(ctrl, 64);
    }
    parentPort.postMessage({ role: 'rt-server-main', ...stats });
  },

  /** postMessage ping-pong client over a MessageChannel port to the other worker (16-byte Uint8Array). */
  'pm-rt-client'() {
    const { port, iterations } = workerData;
    const warm = Math.floor(iterations / 10);
    const samples = new Float64Array(iterations - warm);
    const payload = new Uint8Array(PAYLOAD);
    const view = new DataView(payload.buffer);
    let errors = 0;
    let i = 0;
    let t0 = 0;
    const send = () => {
      view.setUint32(0, i, true);
      t0 = performance.now();
      port.postMessage(payload);
    };
    port.on('message', (m) => {
      const t = performance.now() - t0;
      if (readU32(m) !== i >>> 0) errors++;
      if (i >= warm) samples[i - warm] = t;
      if (++i < iterations) send();
      else {
        port.close();
        parentPort.postMessage({ role: 'pm-rt-client', errors, samples }, [samples.buffer]);
      }
    });
    awaitStart();
    send();
  },

  /** postMessage echo server. */
  'pm-rt-server'() {
    const { port } = workerData;
    port.on('message', (m) => port.postMessage(m));
    port.on('close', () => parentPort.postMessage({ role: 'pm-rt-server' }));
  },

  /** postMessage pipelined sender: posts `frames` 16-byte messages as fast as it can. */
  'pm-pipe-producer'() {
    const { port, frames } = workerData;
    const payload = new Uint8Array(PAYLOAD);
    const view = new DataView(payload.buffer);
    awaitStart();
    for (let seq = 0; seq < frames; seq++) {
      view.setUint32(0, seq, true);
      port.postMessage(payload);
    }
    parentPort.postMessage({ role: 'pm-pipe-producer' });
  },

  /** postMessage pipelined receiver: drains the port synchronously, checks order, times after warm-up. */
  'pm-pipe-consumer'() {
    const { port, frames } = workerData;
    const warm = Math.floor(frames / 10);
    let errors = 0;
    let t0 = 0;
    awaitStart();
    for (let seq = 0; seq < frames; seq++) {
      if (seq === warm) t0 = performance.now();
      let m;
      while ((m = receiveMessageOnPort(port)) === undefined);
      const u8 = m.message;
      if (readU32(u8) !== seq >>> 0) errors++;
    }
    const ms = performance.now() - t0;
    parentPort.postMessage({ role: 'pm-pipe-consumer', errors, timedFrames: frames - warm, ms });
  },
};

const role = roles[workerData.role];
if (role === undefined) throw new Error(`unknown bench role ${workerData.role}`);
role();
