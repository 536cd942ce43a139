// Work of the BullMQ benchmark: the same CPU-bound function as a WorkgroupJob (for isolate-workgroup)
// and as a plain function (for the plain BullMQ worker baseline).
import { WorkgroupJob } from '../../dist/index.js';

/** A fixed amount of CPU work: `iterations` rounds of an xorshift (calibrated by the benchmark to take
 *  1 ms or 10 ms on an idle core), then returns n * n (checked by the benchmark). A fixed amount, not a
 *  time: on a busy computer the job's CPU cost stays the same while its wall time grows. */
export function spin(iterations, n) {
  let x = n | 1;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return { n, square: n * n, x };
}

export class Spin extends WorkgroupJob {
  constructor(iterations, n) {
    super();
    this.iterations = iterations;
    this.n = n;
  }
  execute() {
    return spin(this.iterations, this.n);
  }
}
