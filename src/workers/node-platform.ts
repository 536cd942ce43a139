/**
 * The Node.js platform adapter (main-thread side): `worker_threads` workers started from the literal
 * `new URL('./workers/entry.node.js', import.meta.url)` in src/start-worker.node.ts, a dedicated MessagePort per worker for control messages,
 * and ref/unref so that outstanding work keeps the process alive and an idle workgroup does not.
 */
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, type Worker, type WorkerOptions } from 'node:worker_threads';
import type { ControlToMain } from '../ring/protocol.js';
import type { Platform, SpawnOptions, WorkerEvents, WorkerHandle } from '../shared/platform.js';
import { hasWaitAsync } from '../ring/wait.js';
import { startNodeWorker } from '../start-worker.node.js';
import { WORKER_CONDITION, WORKER_CONDITION_ARG } from './worker-condition.js';

/** Whether `execArgv` can carry the worker condition here: only Node itself (Bun and Deno start workers their own way). */
const conditionUsable = typeof process === 'object' && process.versions?.node !== undefined && process.versions.bun === undefined && process.versions.deno === undefined;
/** The parent's `execArgv` as a worker accepts it: `undefined` until the first spawn, `null` when no form of it was accepted. */
let inherited: readonly string[] | null | undefined;

const isRefusedExecArgv = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'ERR_WORKER_INVALID_EXEC_ARGV';

/** The options Node named in an ERR_WORKER_INVALID_EXEC_ARGV ("… invalid execArgv flags: --a=1, --b"). */
function refusedOptions(error: unknown): string[] {
  const message = String((error as { message?: unknown })?.message ?? '');
  const at = message.indexOf('flags: ');
  return at < 0 ? [] : message.slice(at + 'flags: '.length).split(', ');
}

/**
 * `argv` without the options Node refused. Node names a refused option without its value when the value
 * is the next argument (`--title iwg` is reported as `--title`): that value goes too, or it would stay
 * behind as a stray argument, and Node stops reading options at the first one that is not an option.
 */
function withoutRefused(argv: readonly string[], refused: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!refused.includes(a)) {
      out.push(a);
      continue;
    }
    const next = argv[i + 1];
    if (!a.includes('=') && next !== undefined && !next.startsWith('-')) i++;
  }
  return out;
}

/**
 * Starts a worker with the worker condition added to its `execArgv`. A worker inherits its parent's
 * `execArgv` unless given one; given one, Node checks it and refuses options that act on the whole
 * process (`--max-old-space-size`, `--title`, …), which a worker does not take from its parent anyway.
 * So the worker gets the condition, then the parent's options less the ones Node refuses; if that is
 * still refused, it starts as before, without the condition. Options given in `workerOptions.execArgv`
 * are kept as they are, after the condition. (The condition goes first: Node stops reading options at
 * the first argument that is not one.) The worker entry takes the condition back out of its
 * `process.execArgv`, so that programs a job starts with `child_process.fork()` do not inherit it.
 */
function startWithWorkerCondition(options: WorkerOptions): Worker {
  const given = options.execArgv;
  const condition = WORKER_CONDITION_ARG;
  if (!conditionUsable || given?.some((a) => a.includes(WORKER_CONDITION))) return startNodeWorker(options);
  if (given !== undefined) {
    try {
      return startNodeWorker({ ...options, execArgv: [condition, ...given] });
    } catch (e) {
      if (!isRefusedExecArgv(e)) throw e;
      return startNodeWorker(options); // the user's own options are refused: let Node say so as it would have
    }
  }
  // `--input-type` is about the main script given with -e or on stdin; a worker would refuse to start with it.
  if (inherited === undefined) inherited = withoutRefused(process.execArgv.filter((a) => !a.startsWith('--input-type=')), ['--input-type']);
  if (inherited === null) return startNodeWorker(options);
  try {
    return startNodeWorker({ ...options, execArgv: [condition, ...inherited] });
  } catch (e) {
    if (!isRefusedExecArgv(e)) throw e;
    const fewer = withoutRefused(inherited, refusedOptions(e));
    inherited = fewer.length < inherited.length ? fewer : null;
    return startWithWorkerCondition(options);
  }
}

export const nodePlatform: Platform = {
  name: 'node',
  hasWaitAsync,
  assertSupported() {
    if (typeof SharedArrayBuffer !== 'function') {
      throw new Error('isolate-workgroup needs SharedArrayBuffer (Node >= 20.19)');
    }
  },
  cores() {
    return availableParallelism();
  },
  entryModuleUrl() {
    // The script `node file.mjs` runs (Node resolves symlinks of the entry, so do we).
    const script = process.argv[1];
    if (!script) return undefined;
    try {
      return pathToFileURL(realpathSync(resolve(script))).href;
    } catch {
      return undefined;
    }
  },
  unrefTimer(timer) {
    (timer as { unref?: () => void }).unref?.();
  },
  spawn(options: SpawnOptions, events: WorkerEvents): WorkerHandle {
    const { port1, port2 } = new MessageChannel();
    const extra = (options.workerOptions ?? {}) as Record<string, unknown>;
    let exited = false;
    const worker = startWithWorkerCondition({
      ...extra,
      name: options.label,
      workerData: { init: options.init, port: port2 },
      transferList: [port2],
    });
    port1.on('message', (m: ControlToMain) => events.message(m));
    port1.unref();
    let lastError: unknown;
    worker.on('error', (e) => {
      lastError = e;
    });
    worker.on('exit', (code) => {
      if (exited) return;
      exited = true;
      // Messages the worker posted just before it ended (e.g. `setupFailed` with the real cause) may still
      // wait on the port when the exit event comes: deliver them first, so exit never overtakes them.
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) events.message(m.message as ControlToMain);
      port1.close();
      events.exit(code, lastError);
    });
    let refd = true;
    return {
      post(message, transfer) {
        port1.postMessage(message, transfer ?? []);
      },
      pull() {
        if (exited) return undefined;
        const got = receiveMessageOnPort(port1);
        return got === undefined ? undefined : (got.message as ControlToMain);
      },
      ref() {
        if (!refd) {
          refd = true;
          worker.ref();
        }
      },
      unref() {
        if (refd) {
          refd = false;
          worker.unref();
        }
      },
      async terminate() {
        if (exited) return;
        await worker.terminate();
      },
    };
  },
};
