// The kernels suite's work, one class per workload. The same kernel code runs three ways: as a kernel
// (wg.parallelFor / parallelReduce), cut by hand into jobs (`RangeJob` on isolate-workgroup, `rangeTask`
// on piscina, which rebuilds the kernel from its constructor arguments), and on one thread (`run(0, n)`).
import { WorkgroupJob, WorkgroupKernel } from '../../dist/index.js';

/** Mandelbrot set over rows: iterations per pixel into `out` (Uint8Array, width × height); partial: their sum. */
export class Mandelbrot extends WorkgroupKernel {
  constructor(out, width, height, maxIter) {
    super();
    this.out = out;
    this.width = width;
    this.height = height;
    this.maxIter = maxIter;
  }
  run(rowStart, rowEnd) {
    const { out, width, height, maxIter } = this;
    const dx = 3 / width;
    const dy = 3 / height;
    let total = 0;
    for (let y = rowStart; y < rowEnd; y++) {
      const ci = -1.5 + y * dy;
      for (let x = 0; x < width; x++) {
        const cr = -2 + x * dx;
        let zr = 0;
        let zi = 0;
        let i = 0;
        while (i < maxIter && zr * zr + zi * zi <= 4) {
          const t = zr * zr - zi * zi + cr;
          zi = 2 * zr * zi + ci;
          zr = t;
          i++;
        }
        out[y * width + x] = i;
        total += i;
      }
    }
    return total;
  }
  combine(a, b) {
    return a + b;
  }
}

/** C = A × B for n × n Float64Arrays, over rows of C (i-k-j order); partial: nothing. */
export class MatMul extends WorkgroupKernel {
  constructor(a, b, c, n) {
    super();
    this.a = a;
    this.b = b;
    this.c = c;
    this.n = n;
  }
  run(rowStart, rowEnd) {
    const { a, b, c, n } = this;
    for (let i = rowStart; i < rowEnd; i++) {
      const row = i * n;
      for (let j = 0; j < n; j++) c[row + j] = 0;
      for (let k = 0; k < n; k++) {
        const aik = a[row + k];
        const bk = k * n;
        for (let j = 0; j < n; j++) c[row + j] += aik * b[bk + j];
      }
    }
  }
}

/** An integer hash per index, folded with xor: a compute-bound loop (~1 ns an index) with an exact result. */
export class HashLoop extends WorkgroupKernel {
  constructor(seed) {
    super();
    this.seed = seed;
  }
  run(start, end) {
    let h = 0;
    for (let i = start; i < end; i++) {
      let x = Math.imul(i ^ this.seed, 0x9e3779b1);
      x ^= x >>> 15;
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      h ^= x;
    }
    return h;
  }
  combine(a, b) {
    return a ^ b;
  }
}

/** data[i] *= factor, and the sum of the new values: memory-bound (16 bytes moved an index, one multiply-add). */
export class ScaleSum extends WorkgroupKernel {
  constructor(data, factor) {
    super();
    this.data = data;
    this.factor = factor;
  }
  run(start, end) {
    const { data, factor } = this;
    let s = 0;
    for (let i = start; i < end; i++) {
      const v = data[i] * factor;
      data[i] = v;
      s += v;
    }
    return s;
  }
  combine(a, b) {
    return a + b;
  }
}

/** Does nothing: the claim loop's own cost per chunk. */
export class Empty extends WorkgroupKernel {
  run() {}
  combine() {}
}

/** Does nothing but count its chunks per worker (one writer per 128-byte slot): were the workers both claiming? */
export class EmptyCounted extends WorkgroupKernel {
  constructor(perWorker) {
    super();
    this.perWorker = perWorker;
  }
  run() {
    this.perWorker[this.isolateIndex * 32]++;
  }
}

const KERNELS = { Mandelbrot, MatMul, HashLoop, ScaleSum };

/** A chunk as a job (the hand-chunked way on isolate-workgroup): runs the kernel over [start, end). */
export class RangeJob extends WorkgroupJob {
  constructor(kernel, start, end) {
    super();
    this.kernel = kernel;
    this.start = start;
    this.end = end;
  }
  execute() {
    return this.kernel.run(this.start, this.end);
  }
}

/** piscina's task (a named export): the kernel rebuilt from its class name and constructor arguments. */
export function rangeTask({ kind, args, start, end }) {
  return new KERNELS[kind](...args).run(start, end);
}
