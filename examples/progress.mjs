// Progress and cancellation: a job reports how far it got with this.report(); the caller's onProgress
// sees every report in order, always before the result. A second job is cancelled half way with an
// AbortSignal, which the job sees as this.signal.
//
//   npm run build && node examples/progress.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkgroupJob, WorkgroupJobAbortedException } from 'isolate-workgroup';

/** Hashes `items` strings, reporting its progress every 10%. */
export class HashItems extends WorkgroupJob {
  constructor(items) {
    super();
    this.items = items;
  }
  execute() {
    let hash = 0x811c9dc5;
    const step = Math.ceil(this.items / 10);
    for (let i = 0; i < this.items; i++) {
      if (this.signal.aborted) return { aborted: true, done: i }; // cooperative cancellation: cheap to check
      const s = `item-${i}`;
      for (let k = 0; k < s.length; k++) hash = Math.imul(hash ^ s.charCodeAt(k), 16777619) >>> 0;
      if ((i + 1) % step === 0) this.report({ done: i + 1, of: this.items });
      if (this.slow) for (const end = performance.now() + 0.05; performance.now() < end; );
    }
    return { hash: hash.toString(16), done: this.items };
  }
}

export class SlowHashItems extends HashItems {
  constructor(items) {
    super(items);
    this.slow = true;
  }
}

const bar = (fraction) => `[${'#'.repeat(Math.round(fraction * 20)).padEnd(20, '.')}]`;

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    const result = await wg.dispatch(new HashItems(200_000), {
      onProgress: ({ done, of }) => console.log(`${bar(done / of)} ${String(Math.round((done / of) * 100)).padStart(3)}%`),
    });
    console.log(`result after every report: hash ${result.hash} of ${result.done.toLocaleString('en-US')} items`);

    // Cancel a slow job once it reported 50%: the running job sees this.signal.aborted and stops.
    const controller = new AbortController();
    const slow = wg.dispatch(new SlowHashItems(20_000), {
      signal: controller.signal,
      onProgress: ({ done, of }) => {
        console.log(`slow job at ${Math.round((done / of) * 100)}%`);
        if (done / of >= 0.5) controller.abort();
      },
    });
    try {
      await slow;
      console.log('the slow job finished before the abort');
    } catch (error) {
      console.log(`slow job cancelled: ${error instanceof WorkgroupJobAbortedException ? 'WorkgroupJobAbortedException' : error.name}`);
    }
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
