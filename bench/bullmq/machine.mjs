// One machine process of the BullMQ benchmark. argv: <iwg|plain> <port> <queue>
//   iwg:   serveWorkgroup with a workgroup of 1 worker (default concurrency: 2 jobs held)
//   plain: a plain BullMQ Worker running spin() on its own event loop (concurrency 1: the work is CPU-bound)
// Prints "ready" once serving; exits on SIGTERM.
import { createRequire } from 'node:module';
import { serveWorkgroup } from '../../dist/bullmq/index.js';
import { spin } from './work.mjs';

const [mode, port, queue] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port) };
let close;
if (mode === 'iwg') {
  const server = await serveWorkgroup({ connection, queue, modules: { work: new URL('./work.mjs', import.meta.url) }, workerCount: 1 });
  close = () => server.close();
} else {
  const { Worker } = createRequire(import.meta.url)('bullmq');
  const worker = new Worker(queue, async (job) => spin(job.data.ms, job.data.n), { connection, concurrency: 1 });
  await worker.waitUntilReady();
  close = () => worker.close();
}
console.log('ready');
process.once('SIGTERM', () => void close());
