// isolate-workgroup's side of the payload benchmark (a work module: the classes are exported).
import { WorkgroupJob } from '../../dist/index.js';
import { sum } from './sum.mjs';

/** Sums `data` (a Float64Array on any buffer, or an ArrayBuffer). */
export class Sum extends WorkgroupJob {
  constructor(data) {
    super();
    this.data = data;
  }
  execute() {
    return sum(this.data);
  }
}

/**
 * Sums `data` `repeats` times and, with `reportEveryMs` > 0, calls `this.report(step)` every that many ms
 * (the clock is read the same way with reporting off). Returns the time the job itself took (ms) and the
 * number of reports, so the caller sees what reporting cost the job.
 */
export class SumWithProgress extends WorkgroupJob {
  constructor(data, repeats, reportEveryMs) {
    super();
    this.data = data;
    this.repeats = repeats;
    this.reportEveryMs = reportEveryMs;
  }
  execute() {
    const a = this.data;
    const every = this.reportEveryMs;
    const t0 = performance.now();
    let next = t0 + every;
    let reports = 0;
    let s = 0;
    for (let r = 0; r < this.repeats; r++) {
      for (let i = 0; i < a.length; i += 16_384) {
        const end = Math.min(a.length, i + 16_384);
        for (let j = i; j < end; j++) s += a[j];
        const now = performance.now();
        if (every > 0 && now >= next) {
          this.report(reports++);
          next = now + every;
        }
      }
    }
    return { ms: performance.now() - t0, reports, s };
  }
}
