// Shared by the resize-, crash-, health- and fault tests: the faults work module, a platform that lets a
// test reach a worker's thread from outside (terminate it, or start a scripted fake in its place), and an
// error-handler recorder.
import { MessageChannel, Worker } from 'node:worker_threads';
import type * as Lib from '../../src/index.js';
import type { IsolateWorkgroup as BaseWorkgroup } from '../../src/api/workgroup.js';
import type { Platform, WorkerHandle } from '../../src/shared/platform.js';
import type { ControlToMain } from '../../src/ring/protocol.js';
import { lib } from './helpers.js';

export const faultsUrl = new URL('../fixtures/faults.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const faults = (await import(faultsUrl.href)) as any;

const base = (await import(new URL('../../dist/api/workgroup.js', import.meta.url).href)) as { IsolateWorkgroup: typeof BaseWorkgroup };
const node = (await import(new URL('../../dist/workers/node-platform.js', import.meta.url).href)) as { nodePlatform: Platform };

/** A launched workgroup on the faults module. */
export async function launchedFaults(n: number, config: Lib.WorkgroupConfig = {}): Promise<Lib.IsolateWorkgroup> {
  const wg = new lib.IsolateWorkgroup(n, { modules: [faultsUrl], ...config });
  await wg.launch();
  return wg;
}

/** Shared per-job run counters (a SharedArrayBuffer passes by reference into jobs). */
export function counters(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

export interface SpyPlatform {
  readonly platform: Platform;
  /** The thread handle of worker `index`, as the workgroup got it from the platform. */
  readonly handles: Map<number, WorkerHandle>;
}

/**
 * The Node platform, recording every worker's handle by index; `fakeEntry(index)` may name a scripted
 * worker entry (a test fixture) to start instead of the real one for that index.
 */
export function spyPlatform(fakeEntry: (index: number) => URL | undefined = () => undefined): SpyPlatform {
  const handles = new Map<number, WorkerHandle>();
  const platform: Platform = {
    ...node.nodePlatform,
    spawn(options, events) {
      const entry = fakeEntry(options.init.index);
      const handle = entry ? spawnFake(entry, options.init, events) : node.nodePlatform.spawn(options, events);
      handles.set(options.init.index, handle);
      return handle;
    },
  };
  return { platform, handles };
}

function spawnFake(entry: URL, init: unknown, events: Parameters<Platform['spawn']>[1]): WorkerHandle {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(entry, { workerData: { init, port: port2 }, transferList: [port2] });
  port1.on('message', (m: ControlToMain) => events.message(m));
  port1.unref();
  let error: unknown;
  worker.on('error', (e) => (error = e));
  worker.on('exit', (code) => {
    port1.close();
    events.exit(code, error);
  });
  return {
    post: (m) => port1.postMessage(m),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** A workgroup on a given platform (the public Node class takes none). */
export async function launchedOn(platform: Platform, n: number, config: Lib.WorkgroupConfig = {}): Promise<Lib.IsolateWorkgroup> {
  const wg = new base.IsolateWorkgroup(n, { modules: [faultsUrl], ...config }, platform) as unknown as Lib.IsolateWorkgroup;
  await wg.launch();
  return wg;
}

export interface Recorded {
  readonly type: string;
  readonly error: unknown;
  readonly isolateIndex: number;
}

/** Records every error the workgroup routes to its handlers. */
export function recordErrors(wg: Lib.IsolateWorkgroup): Recorded[] {
  const seen: Recorded[] = [];
  wg.setErrorHandler(lib.IsolateErrorType.all, (error, info) => seen.push({ type: info.type, error, isolateIndex: info.isolateIndex }));
  return seen;
}

/** Polls `cond` every few ms until it holds; rejects with `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Settles every promise within `ms` (a hung one fails the test) and returns the outcomes. */
export async function allSettledWithin<T>(ps: readonly Promise<T>[], ms: number, what: string): Promise<PromiseSettledResult<T>[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const out = await Promise.race([
    Promise.allSettled(ps),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${what}: not every promise settled within ${ms} ms`));
      }, ms);
    }),
  ]);
  clearTimeout(timer);
  return out;
}
