// Matrix multiply as a kernel: C = A × B, rows of C cut into chunks that the workers claim. The three
// matrices live on shared memory, so nothing is copied; the result is compared with one thread's.
//
//   npm run build && node examples/kernels-matmul.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkgroupKernel } from 'isolate-workgroup';

/** Rows [start, end) of C = A × B (n × n, row-major), in i-k-j order (the inner loop walks memory in order). */
export class MatMul extends WorkgroupKernel {
  constructor(a, b, c, n) {
    super();
    this.a = a;
    this.b = b;
    this.c = c;
    this.n = n;
  }
  run(start, end) {
    const { a, b, c, n } = this;
    for (let i = start; i < end; i++) {
      const row = i * n;
      c.fill(0, row, row + n);
      for (let k = 0; k < n; k++) {
        const aik = a[row + k];
        const bk = k * n;
        for (let j = 0; j < n; j++) c[row + j] += aik * b[bk + j];
      }
    }
  }
}

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    const n = 384;
    const [a, b, c] = [0, 1, 2].map(() => wg.allocate(Float64Array, n * n));
    for (let i = 0; i < n * n; i++) {
      a[i] = Math.sin(i);
      b[i] = Math.cos(i);
    }
    const kernel = new MatMul(a, b, c, n);
    // One untimed pass on each side first: the timed passes then compare optimised code with optimised code.
    kernel.run(0, n);
    await wg.parallelFor(n, kernel, { chunk: 8 });

    const t0 = performance.now();
    kernel.run(0, n);
    const single = performance.now() - t0;
    const expected = Float64Array.from(c);

    const t1 = performance.now();
    await wg.parallelFor(n, kernel, { chunk: 8 }); // 48 chunks of 8 rows
    const parallel = performance.now() - t1;
    const same = c.every((v, i) => v === expected[i]);
    console.log(`${n} × ${n} matrices: one thread ${single.toFixed(0)} ms, ${wg.liveIsolateCount} workers ${parallel.toFixed(0)} ms (${(single / parallel).toFixed(2)}×)`);
    console.log(`C equals one thread's result element for element: ${same}; C[0] = ${c[0].toFixed(6)}`);
    for (const m of [a, b, c]) wg.release(m);
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
