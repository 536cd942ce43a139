// The compute floor of the payload benchmark: the same sum, in a worker thread of its own, with no
// dispatch, copy or message in the timed part. Gets [data, iterations, warmup]; answers with the
// per-iteration milliseconds and the sum.
import { parentPort } from 'node:worker_threads';
import { sum } from './sum.mjs';

parentPort.on('message', ([data, iterations, warmup]) => {
  const a = new Float64Array(data); // a private, non-shared copy made once (not timed)
  let s = 0;
  for (let i = 0; i < warmup; i++) s = sum(a);
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    s = sum(a);
    ms.push(performance.now() - t);
  }
  parentPort.postMessage({ ms, sum: s });
});
