// The kernel examples run as a user would run them (`node examples/kernels-*.mjs` after a build) and
// print checked results. Speed-ups are printed, never asserted.
import { describe, expect, it } from 'vitest';
import { runNode } from './run-node.js';

async function ok(name: string): Promise<string> {
  const r = await runNode([`examples/${name}`], 50_000);
  expect(r.stderr, `${name} wrote to stderr`).toBe('');
  expect(r.code, `${name} exited with ${r.code}:\n${r.stdout}`).toBe(0);
  return r.stdout;
}

describe('kernel examples', () => {
  it('kernels-mandelbrot.mjs: the parallel total equals one thread\'s and the frame is drawn', async () => {
    const out = await ok('kernels-mandelbrot.mjs');
    expect(out).toMatch(/1200 × 800 frame: 36544172 iterations on 2 workers in \d+ ms \(one thread: \d+ ms, [\d.]+×\)/);
    expect(out).toMatch(/same total as one thread: true; \d+ progress report\(s\), the last one 100%/);
    expect(out).toMatch(/@{20}/);
  }, 60_000);

  it('kernels-scale-sum.mjs: the sums match one thread\'s exactly, with the bandwidth printed', async () => {
    const out = await ok('kernels-scale-sum.mjs');
    expect(out).toMatch(/20,000,000 doubles: one thread \d+ ms \([\d.]+ GB\/s\), 2 workers \d+ ms \([\d.]+ GB\/s\): [\d.]+×/);
    expect(out).toMatch(/sums equal: true \(990000000\)/);
    expect(out).toMatch(/after scaling by 2: sum 1980000000 \(= 2 × 990000000: true\), data\[99\] = 198/);
  }, 60_000);

  it('kernels-matmul.mjs: C equals one thread\'s result element for element', async () => {
    const out = await ok('kernels-matmul.mjs');
    expect(out).toMatch(/384 × 384 matrices: one thread \d+ ms, 2 workers \d+ ms \([\d.]+×\)/);
    expect(out).toMatch(/C equals one thread's result element for element: true/);
  }, 60_000);
});
