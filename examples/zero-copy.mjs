// Zero-copy numeric work: a Float64Array allocated on the workgroup's shared memory is filled by the
// main thread, and each worker reads and scales its half in place — the same bytes, no copy either
// way. A job can also allocate its result on shared memory. Arrays are given back with release().
//
//   npm run build && node examples/zero-copy.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkgroupJob } from 'isolate-workgroup';

/** Sums data[from, to) and scales those elements in place. */
export class SumAndScale extends WorkgroupJob {
  constructor(data, from, to, factor) {
    super();
    this.data = data; // a view on shared memory: the worker gets a view on the same bytes
    this.from = from;
    this.to = to;
    this.factor = factor;
  }
  execute() {
    const { data, factor } = this;
    let sum = 0;
    for (let i = this.from; i < this.to; i++) {
      sum += data[i];
      data[i] *= factor;
    }
    return sum;
  }
}

/** Builds a histogram of `data` into an array it allocates on shared memory (returned without a copy). */
export class Histogram extends WorkgroupJob {
  constructor(data, bins, max) {
    super();
    this.data = data;
    this.bins = bins;
    this.max = max;
  }
  execute() {
    const counts = this.allocate(Uint32Array, this.bins);
    for (const x of this.data) counts[Math.min(this.bins - 1, Math.floor((x / this.max) * this.bins))]++;
    return counts;
  }
}

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    const n = 2 * 2 ** 20; // 16 MiB of doubles
    const data = wg.allocate(Float64Array, n);
    for (let i = 0; i < n; i++) data[i] = i % 100;
    console.log(`allocated ${(data.byteLength / 2 ** 20).toFixed(0)} MiB on shared memory (${data.buffer.constructor.name})`);

    const half = n / 2;
    const started = performance.now();
    const [a, b] = await Promise.all([wg.dispatch(new SumAndScale(data, 0, half, 2)), wg.dispatch(new SumAndScale(data, half, n, 2))]);
    console.log(`sum ${a + b} computed by 2 workers in ${(performance.now() - started).toFixed(1)} ms`);
    console.log(`the workers scaled the main thread's array in place: data[1] = ${data[1]}, data[n - 1] = ${data[n - 1]}`);

    const histogram = await wg.dispatch(new Histogram(data, 4, 200));
    console.log(`histogram allocated by the worker: ${Array.from(histogram).join(', ')} (${histogram.constructor.name} on ${histogram.buffer.constructor.name})`);

    // Give the memory back; using an array after release() is an error, not a silent read of reused memory.
    wg.release(histogram);
    wg.release(data);
    console.log('released both arrays');
  } finally {
    await wg.shutdown();
  }
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
