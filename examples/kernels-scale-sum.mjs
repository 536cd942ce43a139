// A memory-bound kernel: scale a big Float64Array in place and sum it, on every worker at once. Each
// index costs one multiply and one add but moves 16 bytes (read + write), so the speed-up is what the
// memory system gives a second core, not 2× — printed here beside the bandwidth reached.
//
//   npm run build && node examples/kernels-scale-sum.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkgroupKernel } from 'isolate-workgroup';

/** data[i] *= factor over [start, end); returns the sum of the new values. */
export class ScaleSum extends WorkgroupKernel {
  constructor(data, factor) {
    super();
    this.data = data;
    this.factor = factor;
  }
  run(start, end) {
    const { data, factor } = this;
    let sum = 0;
    for (let i = start; i < end; i++) {
      const v = data[i] * factor;
      data[i] = v;
      sum += v;
    }
    return sum;
  }
  combine(a, b) {
    return a + b;
  }
  identity() {
    return 0;
  }
}

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    const n = 20_000_000; // 160 MB of doubles
    const data = wg.allocate(Float64Array, n);
    for (let i = 0; i < n; i++) data[i] = i % 100; // small integers: every partial sum is exact
    const gbps = (ms) => ((16 * n) / (ms * 1e6)).toFixed(1);

    const kernel = new ScaleSum(data, 1);
    kernel.run(0, n); // warm the loop on this thread
    const t0 = performance.now();
    const expected = kernel.run(0, n);
    const single = performance.now() - t0;

    await wg.parallelReduce(n, kernel); // the workers' first pass (their code warms up)
    const t1 = performance.now();
    const sum = await wg.parallelReduce(n, kernel);
    const parallel = performance.now() - t1;
    console.log(`${n.toLocaleString('en-US')} doubles: one thread ${single.toFixed(0)} ms (${gbps(single)} GB/s), ${wg.liveIsolateCount} workers ${parallel.toFixed(0)} ms (${gbps(parallel)} GB/s): ${(single / parallel).toFixed(2)}×`);
    console.log(`sums equal: ${sum === expected} (${sum})`);

    // Scale by 2 with a fixed chunk size: the float sum is then the same in every run.
    const doubled = await wg.parallelReduce(n, new ScaleSum(data, 2), { chunk: 1 << 20 });
    console.log(`after scaling by 2: sum ${doubled} (= 2 × ${expected}: ${doubled === 2 * expected}), data[99] = ${data[99]}`);
    wg.release(data);
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
