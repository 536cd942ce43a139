// Work of the BullMQ benchmark: the same CPU-bound function as a WorkgroupJob (for isolate-workgroup)
// and as a plain function (for the plain BullMQ worker baseline).
import { WorkgroupJob } from '../../dist/index.js';

/** Spins for `ms` milliseconds of CPU time, then returns n * n (checked by the benchmark). */
export function spin(ms, n) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x++;
  return { n, square: n * n, spins: x > 0 };
}

export class Spin extends WorkgroupJob {
  constructor(ms, n) {
    super();
    this.ms = ms;
    this.n = n;
  }
  execute() {
    return spin(this.ms, this.n);
  }
}
