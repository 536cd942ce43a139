// The raw postMessage baseline of the payload benchmark: [id, array] in, [id, sum] out.
import { parentPort } from 'node:worker_threads';
import { sum } from './sum.mjs';

parentPort.on('message', ([id, data]) => parentPort.postMessage([id, sum(data)]));
parentPort.postMessage('ready');
