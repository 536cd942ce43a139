// One-off jobs: hand work to whichever worker is free (or to a chosen one), collect the results, and
// catch a job's error with its own class.
//
//   npm run build && node examples/one-off-jobs.mjs
//
// This file is both the program and its work module: the workers import it (modules: [import.meta.url])
// to find the job classes, and skip main() because they are not the main thread.
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkgroupJob } from 'isolate-workgroup';

/** Counts the primes in [from, to). */
export class CountPrimes extends WorkgroupJob {
  constructor(from, to) {
    super();
    this.from = from;
    this.to = to;
  }
  execute() {
    let count = 0;
    for (let n = Math.max(2, this.from); n < this.to; n++) {
      let prime = true;
      for (let d = 2; d * d <= n; d++) {
        if (n % d === 0) {
          prime = false;
          break;
        }
      }
      if (prime) count++;
    }
    return count;
  }
}

/** Tells which worker ran it. */
export class WhereAmI extends WorkgroupJob {
  execute() {
    return this.isolateIndex;
  }
}

/** An error class exported from the work module: the caller gets this very class back. */
export class NotANumberError extends Error {
  constructor(text) {
    super(`"${text}" is not a number`);
    this.name = 'NotANumberError';
    this.text = text;
  }
}

export class ParseNumber extends WorkgroupJob {
  constructor(text) {
    super();
    this.text = text;
  }
  execute() {
    const n = Number(this.text);
    if (Number.isNaN(n)) throw new NotANumberError(this.text);
    return n;
  }
}

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    // Many jobs at once: they go on one shared queue, and each worker takes the next one when it is free.
    const limit = 200_000;
    const step = limit / 8;
    const started = performance.now();
    const counts = await Promise.all(Array.from({ length: 8 }, (_, i) => wg.dispatch(new CountPrimes(i * step, (i + 1) * step))));
    const total = counts.reduce((a, b) => a + b, 0);
    console.log(`primes below ${limit.toLocaleString('en-US')}: ${total} (8 jobs on 2 workers, ${(performance.now() - started).toFixed(0)} ms)`);

    // A job for one particular worker: pass its index.
    console.log(`the job sent to worker 1 ran on worker ${await wg.dispatch(new WhereAmI(), 1)}`);

    // A failing job rejects with the error class the worker threw, message and fields included.
    try {
      await wg.dispatch(new ParseNumber('twelve'));
    } catch (error) {
      console.log(`caught ${error.name}: ${error.message} (instanceof NotANumberError: ${error instanceof NotANumberError}, text: ${error.text})`);
    }
    console.log(`parsed ${await wg.dispatch(new ParseNumber('42'))} after the failure: the workgroup keeps working`);
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
