// Shared by the kernel tests: the kernel work module and a launched workgroup that imports it.
import type * as Lib from '../../src/index.js';
import { lib } from './helpers.js';

export const kernelsUrl = new URL('../fixtures/kernels.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const kernels = (await import(kernelsUrl.href)) as any;

export async function launchedKernels(n: number, config: Lib.WorkgroupConfig = {}): Promise<Lib.IsolateWorkgroup> {
  const wg = new lib.IsolateWorkgroup(n, { modules: [kernelsUrl], ...config });
  await wg.launch();
  return wg;
}

/** Indices whose count is not exactly 1, as `index:count` (at most 10), for a readable failure. */
export function notOnce(counts: Int32Array): string[] {
  const bad: string[] = [];
  for (let i = 0; i < counts.length && bad.length < 10; i++) if (counts[i] !== 1) bad.push(`${i}:${counts[i]}`);
  return bad;
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
