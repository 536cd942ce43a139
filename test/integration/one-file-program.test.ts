// A program that declares its job classes and its main code in one module (the first program most
// piscina users write) runs under plain `node file.mjs` and exits 0 by itself. Main never imports its own
// entry module while that module is still in its top-level await (which would wait for itself: exit 13).
import { describe, expect, it } from 'vitest';
import { runNode } from './run-node.js';

describe('one-file programs (plain node, child process)', () => {
  it('modules: [import.meta.url] with an isMainThread guard: results, class results, progress, custom errors, exit 0', async () => {
    const r = await runNode(['test/fixtures/one-file-modules.mjs'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'launched',
      'result true 8 4',
      'run 15',
      `many ${Array.from({ length: 50 }, (_, i) => 2 * i).reduce((a, b) => a + b, 0)}`,
      // The entry module cannot be imported by main while it runs: its error class arrives as an Error
      // that keeps its name, message and fields.
      'error true Boom negative -1 42',
      'done',
      '',
    ]);
    expect(r.code).toBe(0);
  }, 70_000);

  it('static module = import.meta.url in the entry module, and a dispatch timeout that fires, exit 0', async () => {
    const r = await runNode(['test/fixtures/one-file-static.mjs'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('sum 3\ntimeout true true\ndone\n');
    expect(r.code).toBe(0);
  }, 70_000);

  it("a dispatch timeout and an abort fire while main waits for the import of the job's module (counted in pendingCount)", async () => {
    const r = await runNode(['test/fixtures/timeout-while-loading.mjs'], 15_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pending while loading 1\ntimeout true 200 true\naborted true\npending 0\n');
    expect(r.code).toBe(0);
  }, 20_000);
});
