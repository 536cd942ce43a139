// A data-parallel kernel: a Mandelbrot frame rendered by every worker at once. The kernel is sent once to
// each worker; workers then claim bands of rows from a shared counter (large bands first, smaller near
// the end, so a slow band near the set does not leave a worker idle) and write straight into one shared
// image. parallelReduce also sums the iterations of every band, in band order.
//
//   npm run build && node examples/kernels-mandelbrot.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkgroupKernel } from 'isolate-workgroup';

/** Iterations per pixel over rows [start, end) of a width × height frame; returns their sum. */
export class Mandelbrot extends WorkgroupKernel {
  constructor(image, width, height, maxIter) {
    super();
    this.image = image; // a Uint8Array on shared memory: every worker writes its own rows
    this.width = width;
    this.height = height;
    this.maxIter = maxIter;
  }
  run(start, end) {
    const { image, width, height, maxIter } = this;
    let total = 0;
    for (let y = start; y < end; y++) {
      const ci = -1.5 + (3 * y) / height;
      for (let x = 0; x < width; x++) {
        const cr = -2 + (3 * x) / width;
        let zr = 0;
        let zi = 0;
        let i = 0;
        while (i < maxIter && zr * zr + zi * zi <= 4) {
          const t = zr * zr - zi * zi + cr;
          zi = 2 * zr * zi + ci;
          zr = t;
          i++;
        }
        image[y * width + x] = i;
        total += i;
      }
    }
    return total;
  }
  combine(a, b) {
    return a + b;
  }
}

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    const width = 1200;
    const height = 800;
    const image = wg.allocate(Uint8Array, width * height);
    const kernel = new Mandelbrot(image, width, height, 200);

    // One untimed pass on each side first: the timed passes then compare optimised code with optimised code.
    kernel.run(0, height);
    await wg.parallelReduce(height, kernel);

    const t0 = performance.now();
    const oneThread = kernel.run(0, height);
    const single = performance.now() - t0;

    let reports = 0;
    const t1 = performance.now();
    const total = await wg.parallelReduce(height, kernel, { onProgress: () => reports++ });
    const parallel = performance.now() - t1;
    console.log(`${width} × ${height} frame: ${total} iterations on ${wg.liveIsolateCount} workers in ${parallel.toFixed(0)} ms (one thread: ${single.toFixed(0)} ms, ${(single / parallel).toFixed(2)}×)`);
    console.log(`same total as one thread: ${total === oneThread}; ${reports} progress report(s), the last one 100%`);

    // A coarse picture of the frame, from the shared image the workers wrote.
    const shades = ' .:-=+*#%@';
    for (let y = 0; y < height; y += 80) {
      let line = '';
      for (let x = 0; x < width; x += 20) line += image[y * width + x] >= 200 ? '@' : shades[Math.min(8, Math.floor(Math.log2(image[y * width + x] + 1)))];
      console.log(line);
    }
    wg.release(image);
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
