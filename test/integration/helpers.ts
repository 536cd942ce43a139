// Integration tests run the built library (dist/, built once by test/global-setup.ts), because worker
// threads load JavaScript; the types come from the sources.
import type * as Lib from '../../src/index.js';

export const lib = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof Lib;
export const workUrl = new URL('../fixtures/work.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const work = (await import(workUrl.href)) as any;

/** A launched workgroup with the test work module; shut down by the caller (`await using` or finally). */
export async function launched(n: number, config: Lib.WorkgroupConfig = {}): Promise<Lib.IsolateWorkgroup> {
  const wg = new lib.IsolateWorkgroup(n, { modules: [workUrl], ...config });
  await wg.launch();
  return wg;
}

/** Settles within `ms` or rejects: a hung promise fails the test with a clear message instead of a timeout. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}
