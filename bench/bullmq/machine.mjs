// One machine process of the BullMQ benchmark. argv: <iwg|plain> <port> <queue>
//   iwg:   serveWorkgroup with a workgroup of 1 worker (default concurrency: 2 jobs held)
//   plain: a plain BullMQ Worker running spin() on its own event loop (concurrency 1: the work is CPU-bound)
// Prints "ready" once serving, "cpu <µs>" on SIGUSR1; exits on SIGTERM.
import { createRequire } from 'node:module';
import { serveWorkgroup } from '../../dist/bullmq/index.js';
import { spin } from './work.mjs';

const [mode, port, queue] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port) };
let close;
if (mode === 'iwg') {
  const workgroupConfig = process.env.IWG_BENCH_WG ? JSON.parse(process.env.IWG_BENCH_WG) : undefined;
  const server = await serveWorkgroup({ connection, queue, modules: { work: new URL('./work.mjs', import.meta.url) }, workerCount: 1, workgroupConfig, concurrency: process.env.IWG_BENCH_CONC ? Number(process.env.IWG_BENCH_CONC) : undefined });
  close = () => server.close();
} else {
  const { Worker } = createRequire(import.meta.url)('bullmq');
  const worker = new Worker(queue, async (job) => spin(job.data.iterations, job.data.n), { connection, concurrency: 1 });
  await worker.waitUntilReady();
  close = () => worker.close();
}
// SIGUSR1: print the CPU time this process (all its threads) has used so far, in microseconds.
process.on('SIGUSR1', () => {
  const u = process.cpuUsage();
  console.log(`cpu ${u.user + u.system}`);
});
console.log('ready');
process.once('SIGTERM', () => void close());
