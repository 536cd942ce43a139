// Kernel classes of the browser test `kernels`: a work module of its own, imported by the workers
// (`modules`) and by the page, through the same library URL as the worker entry.
import { WorkgroupKernel } from '../../../dist/index.browser.js';

/** Adds 1 to `counts[i]` for every index: each count must end at exactly 1. */
export class Count extends WorkgroupKernel {
  constructor(counts) {
    super();
    this.counts = counts;
  }
  run(start, end) {
    for (let i = start; i < end; i++) Atomics.add(this.counts, i, 1);
  }
}

/** The sum of the elements of `data` (a reduction). */
export class Sum extends WorkgroupKernel {
  constructor(data) {
    super();
    this.data = data;
  }
  run(start, end) {
    let s = 0;
    for (let i = start; i < end; i++) s += this.data[i];
    return s;
  }
  combine(a, b) {
    return a + b;
  }
}

export class BadIndex extends Error {
  constructor(message) {
    super(message);
    this.name = 'BadIndex';
  }
}

/** Throws BadIndex in the chunk holding index `bad`. */
export class ThrowAt extends WorkgroupKernel {
  constructor(bad) {
    super();
    this.bad = bad;
  }
  run(start, end) {
    if (start <= this.bad && this.bad < end) throw new BadIndex(`index ${this.bad}`);
  }
}
