// Where a worker's start-up time goes: `node bench/startup-breakdown.mjs [--lib path/to/dist/index.js] [--runs N]`.
// In one process: N times, a bare worker_threads worker (one tiny module that answers at once), then a
// workgroup of 2 workers whose work module stamps each phase inside the worker:
//   spawn + entry   launch() called → the worker entry is loaded and running (it imports the work module)
//   library import  the work module's `import 'isolate-workgroup'` (the public entry, in the worker)
//   setup           → the module's setup() ran
//   ready           → launch() resolved in main
//   first claim     → a job dispatched after ready started running in the worker
// and, apart, importing the library's public entry in a fresh worker (`importInWorker`: what a work
// module's `import 'isolate-workgroup'` costs a thread that has loaded nothing of the library yet).
// Prints medians (ms, from launch()) as one JSON line. --lib compares another build (e.g. an older dist/).
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const libUrl = opt('--lib') ? pathToFileURL(path.resolve(opt('--lib'))).href : new URL('../dist/index.js', import.meta.url).href;
const runs = Number(opt('--runs', 5));
process.env.BREAKDOWN_LIB = libUrl; // read by the work module, in main and (inherited env) in the workers
const workUrl = new URL('./workers/breakdown.mjs', import.meta.url);
const now = () => performance.timeOrigin + performance.now();
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const t0 = now();
const lib = await import(libUrl);
const work = await import(workUrl.href);
const mainImport = now() - t0;
/** Milliseconds a fresh worker takes to import the library's public entry. */
function importInFreshWorker() {
  const code = `const t = performance.now(); await import(${JSON.stringify(libUrl)}); (await import('node:worker_threads')).parentPort.postMessage(performance.now() - t);`;
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
    w.once('error', reject);
    w.once('message', (ms) => resolve(w.terminate().then(() => ms)));
  });
}

const acc = { importInWorker: [], bareWorker: [], entryRunning: [], libImported: [], setupDone: [], ready: [], firstClaim: [] };
for (let r = 0; r < runs; r++) {
  acc.importInWorker.push(await importInFreshWorker());
  const b0 = now();
  await Promise.all(
    [0, 1].map(
      () =>
        new Promise((resolve) => {
          const w = new Worker('require("node:worker_threads").parentPort.postMessage(0)', { eval: true });
          w.once('message', () => resolve(w.terminate()));
        }),
    ),
  );
  acc.bareWorker.push(now() - b0);
  await sleep(30);
  const l0 = now();
  const wg = new lib.IsolateWorkgroup(2, { modules: [workUrl] });
  await wg.launch();
  acc.ready.push(now() - l0);
  const stamps = await Promise.all([0, 1].map((i) => wg.dispatch(new work.Stamp(), i)));
  await wg.shutdown();
  acc.entryRunning.push(median(stamps.map((s) => s.entryRunning - l0)));
  acc.libImported.push(median(stamps.map((s) => s.libImported - l0)));
  acc.setupDone.push(median(stamps.map((s) => s.setupAt - l0)));
  acc.firstClaim.push(median(stamps.map((s) => s.claimed - l0)));
  await sleep(30);
}
const out = { lib: libUrl, runs, mainImport: Math.round(mainImport * 10) / 10 };
for (const [k, v] of Object.entries(acc)) out[k] = Math.round(median(v) * 10) / 10;
console.log(JSON.stringify(out));
