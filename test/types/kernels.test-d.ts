// Type tests of kernels: parallelReduce's result is the partial type of run(), it needs combine(), and
// parallelFor takes any kernel and resolves to void.
import { IsolateWorkgroup, WorkgroupKernel, type KernelPartial, type WorkgroupParallelOptions } from '../../src/index.js';

class Sum extends WorkgroupKernel<number> {
  readonly data: Float64Array;
  constructor(data: Float64Array) {
    super();
    this.data = data;
  }
  run(start: number, end: number): number {
    let s = 0;
    for (let i = start; i < end; i++) s += this.data[i]!;
    return s;
  }
  combine(a: number, b: number): number {
    return a + b;
  }
  identity(): number {
    return 0;
  }
}

class MinMax extends WorkgroupKernel<{ min: number; max: number }> {
  run(start: number, end: number): { min: number; max: number } {
    return { min: start, max: end };
  }
  combine(a: { min: number; max: number }, b: { min: number; max: number }): { min: number; max: number } {
    return { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
  }
}

class Scale extends WorkgroupKernel {
  readonly data: Float64Array;
  readonly factor: number;
  constructor(data: Float64Array, factor: number) {
    super();
    this.data = data;
    this.factor = factor;
  }
  run(start: number, end: number): void {
    for (let i = start; i < end; i++) this.data[i]! *= this.factor;
  }
}

declare const wg: IsolateWorkgroup;
declare const data: Float64Array;

export async function typed(): Promise<void> {
  const total: number = await wg.parallelReduce(data.length, new Sum(data));
  const range = await wg.parallelReduce(10, new MinMax(), { chunk: 2 });
  const lo: number = range.min;
  // @ts-expect-error -- the result is an object, not a number
  const wrong: number = await wg.parallelReduce(10, new MinMax());
  const nothing: void = await wg.parallelFor(data.length, new Scale(data, 2), { onProgress: (f: number) => void f, timeout: 10, signal: AbortSignal.timeout(5) });
  // @ts-expect-error -- a reduction needs combine()
  await wg.parallelReduce(10, new Scale(data, 2));
  // @ts-expect-error -- not a kernel
  await wg.parallelFor(10, { length: 3 });
  // @ts-expect-error -- unknown option
  await wg.parallelFor(10, new Scale(data, 2), { chunks: 3 });
  // @ts-expect-error -- onProgress receives a fraction
  await wg.parallelFor(10, new Scale(data, 2), { onProgress: (f: string) => void f });
  const opts: WorkgroupParallelOptions = { minChunk: 64, mainThread: true };
  const p: KernelPartial<Sum> = 1;
  // @ts-expect-error -- run() takes the range as numbers
  new Sum(data).run('0', 1);
  void [total, lo, wrong, nothing, opts, p];
}
