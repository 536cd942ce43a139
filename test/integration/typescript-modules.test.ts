import { describe, expect, it } from 'vitest';
import { lib } from './helpers.js';

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const stripsTypes = major > 22 || (major === 22 && minor >= 18);
const tsModule = new URL('../fixtures/ts-work.ts', import.meta.url);

describe('TypeScript work modules', () => {
  it(`${stripsTypes ? 'load (this Node strips types)' : 'fail with advice, not a bare ERR_UNKNOWN_FILE_EXTENSION (Node 20)'}`, async () => {
    const wg = new lib.IsolateWorkgroup(1, { modules: [tsModule] });
    try {
      if (stripsTypes) {
        const { Double } = (await import(tsModule.href)) as typeof import('../fixtures/ts-work.js');
        await wg.launch();
        await expect(wg.dispatch(new Double(21))).resolves.toBe(42);
      } else {
        const err = (await wg.launch().catch((e: unknown) => e)) as Error;
        expect(err).toBeInstanceOf(lib.WorkgroupSetupException);
        expect(err.message).toContain('build the module to JavaScript');
        expect(err.message).toContain('Node >= 22.18');
      }
    } finally {
      await wg.shutdown();
    }
  });
});
