/**
 * The Node.js platform adapter (main-thread side): `worker_threads` workers started from the literal
 * `new URL('./workers/entry.node.js', import.meta.url)` in src/start-worker.node.ts, a dedicated MessagePort per worker for control messages,
 * and ref/unref so that outstanding work keeps the process alive and an idle workgroup does not.
 */
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { ControlToMain } from '../ring/protocol.js';
import type { Platform, SpawnOptions, WorkerEvents, WorkerHandle } from '../shared/platform.js';
import { hasWaitAsync } from '../ring/wait.js';
import { startNodeWorker } from '../start-worker.node.js';

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
    const worker = startNodeWorker({
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
