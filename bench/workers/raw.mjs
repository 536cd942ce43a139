// The raw postMessage baseline's worker: no library, one message in, one message out.
// Requests are [id, op, a, b]; answers are [id, result] or [id, undefined, errorMessage].
import { parentPort } from 'node:worker_threads';
import { barrier, inc, increment, spin } from './tasks.mjs';

parentPort.on('message', (m) => {
  const [id, op, a, b] = m;
  try {
    let r;
    if (op === 0) r = inc(a);
    else if (op === 1) r = spin(a, b);
    else if (op === 2) r = increment();
    else if (op === 3) r = barrier(a, b);
    else throw new Error(`raw worker: unknown op ${op}`);
    parentPort.postMessage([id, r]);
  } catch (e) {
    parentPort.postMessage([id, undefined, String(e?.message ?? e)]);
  }
});
parentPort.postMessage('ready');
