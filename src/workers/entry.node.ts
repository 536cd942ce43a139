/**
 * Worker entry for Node.js (`worker_threads`). Spawned by the workgroup with
 * `new Worker(new URL('./workers/entry.node.js', import.meta.url), { workerData })`.
 * Control messages arrive on a dedicated MessagePort, which the loop can also drain synchronously with
 * `receiveMessageOnPort` while it never returns to the event loop.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ControlToMain, ControlToWorker, WorkerInit } from '../ring/protocol.js';
import type { WorkerHost } from './host.js';
import { WorkerCore } from './worker-core.js';
import { WORKER_CONDITION_ARG } from './worker-condition.js';

interface NodeWorkerData {
  readonly init: WorkerInit;
  readonly port: MessagePort;
}

const { init, port } = workerData as NodeWorkerData;

// The library started this thread with the worker condition in its `execArgv` (see node-platform.ts). It
// has done its work: resolution reads Node's own options, not this array. Taken out of the array, so that a
// program a job starts with `child_process.fork()` (which passes `process.execArgv` on) resolves
// 'isolate-workgroup' to the full entry, as its own main thread should.
{
  const at = process.execArgv.indexOf(WORKER_CONDITION_ARG);
  if (at >= 0) process.execArgv.splice(at, 1);
}

/** Resources that are the workgroup's own: they never need the worker's event loop to turn. */
const OWN_RESOURCES = new Set(['MessagePort', 'PipeWrap', 'TTYWrap', 'SignalWrap']);

/**
 * Does this runtime report a pending timer among its active resources? Node and Deno do; Bun returns an
 * empty list. Checked once with a real timer, not by runtime name.
 */
function resourcesVisible(): boolean {
  if (typeof process.getActiveResourcesInfo !== 'function') return false;
  const probe = setTimeout(() => undefined, 60_000);
  try {
    return process.getActiveResourcesInfo().some((r) => !OWN_RESOURCES.has(r));
  } finally {
    clearTimeout(probe);
  }
}

const host: WorkerHost = {
  platform: 'node',
  post(message: ControlToMain, transfer?: ArrayBuffer[]) {
    port.postMessage(message, transfer ?? []);
  },
  onControl(handler) {
    port.on('message', (m: ControlToWorker) => handler(m));
  },
  syncControl: true,
  pullControl() {
    const got = receiveMessageOnPort(port);
    return got ? (got.message as ControlToWorker) : undefined;
  },
  yieldToEventLoop() {
    return new Promise<void>((resolve) => setImmediate(resolve));
  },
  seesForeignWork: resourcesVisible(),
  hasForeignWork() {
    for (const r of process.getActiveResourcesInfo()) if (!OWN_RESOURCES.has(r)) return true;
    return false;
  },
  onUncaught(handler) {
    process.on('uncaughtException', handler);
    process.on('unhandledRejection', handler);
  },
  close() {
    port.close();
  },
  abort() {
    process.exit(70); // in a worker thread this ends the thread, not the process
  },
};

await new WorkerCore(host, init).start();
