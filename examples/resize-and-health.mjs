// Resizing and health: add a worker and kill one while work keeps flowing, probe every worker through
// shared memory, and see a crashed worker replaced. Indices are stable: a killed index is never reused.
//
//   npm run build && node examples/resize-and-health.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateErrorType, IsolateWorkgroup, WorkgroupHealthConfig, WorkgroupJob, WorkgroupMemberDeadException } from 'isolate-workgroup';

/** Busy for `ms` milliseconds, then tells which worker ran it. */
export class Work extends WorkgroupJob {
  constructor(ms) {
    super();
    this.ms = ms;
  }
  execute() {
    const end = Date.now() + this.ms;
    while (Date.now() < end) if (this.signal.aborted) break;
    return this.isolateIndex;
  }
}

/** Takes its worker down with it. */
export class Crash extends WorkgroupJob {
  execute() {
    process.exit(1);
  }
}

const live = (wg) => `${wg.liveIsolateCount} live of ${wg.isolatesCount} indices`;

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url], health: WorkgroupHealthConfig.aggressive() });
  wg.setErrorHandler(IsolateErrorType.communication, (error, info) => console.log(`  communication handler: worker ${info.isolateIndex} — ${error.name}`));
  await wg.launch();
  try {
    console.log(`launched: ${live(wg)}`);

    // A steady stream of jobs (8 in flight) while the workgroup changes shape under it.
    const ranOn = new Set();
    let done = 0;
    let cancelled = 0;
    let dispatched = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        const batch = Array.from({ length: 8 }, () => wg.dispatch(new Work(5)));
        dispatched += batch.length;
        for (const outcome of await Promise.allSettled(batch)) {
          if (outcome.status === 'fulfilled') {
            ranOn.add(outcome.value);
            done++;
          } else cancelled++; // the job that was running on a killed worker
        }
      }
    })();

    const added = await wg.addIsolate({ label: 'extra' });
    console.log(`addIsolate() -> worker ${added}: ${live(wg)}`);
    while (!ranOn.has(added)) await new Promise((r) => setTimeout(r, 10)); // the new worker takes jobs at once
    await wg.kill(0);
    console.log(`kill(0): ${live(wg)}; probe(0) = ${await wg.probe(0)}`);
    streaming = false;
    await stream;
    console.log(`stream: ${done} of ${dispatched} jobs done on workers ${[...ranOn].sort().join(', ')}, ${cancelled} cancelled by the kill, none left pending`);

    for (const i of [1, 2]) console.log(`probe(${i}) = ${await wg.probe(i)}, healthy: ${wg.isIsolateHealthy(i)}`);

    // A crash is noticed at once: the job rejects, the handler fires, and a new worker takes a new index.
    const crash = await wg.dispatch(new Crash(), 1).catch((e) => e);
    console.log(`crash job rejected with ${crash instanceof WorkgroupMemberDeadException ? 'WorkgroupMemberDeadException' : crash?.name}`);
    while (wg.liveIsolateCount < 2) await new Promise((r) => setTimeout(r, 20));
    console.log(`after the crash and respawn: ${live(wg)}, live workers: ${[...wg.healthStatus.keys()].join(', ')}`);
    console.log(`a job after all that ran on worker ${await wg.dispatch(new Work(1))}`);
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
