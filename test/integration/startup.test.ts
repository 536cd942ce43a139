// Start-up: what launch() does before the workers are ready, and what loading the library costs a thread.
// Process-level behaviour runs in child processes (plain node scripts in test/fixtures).
import { describe, expect, it } from 'vitest';
import { lib, within } from './helpers.js';
import { runNode } from './run-node.js';

const handshake = new URL('../fixtures/startup-handshake.mjs', import.meta.url);

describe('launch()', () => {
  it('starts the workers while main imports the work modules (main here cannot finish importing before a worker has)', async () => {
    const wg = new lib.IsolateWorkgroup(2, { modules: [handshake] });
    try {
      await within(wg.launch(), 20_000, 'launch()');
      const { Ping } = (await import(handshake.href)) as { Ping: new () => InstanceType<typeof lib.WorkgroupJob> };
      expect(await wg.dispatch(new Ping())).toBe('pong');
    } finally {
      await wg.shutdown();
    }
  });

  it('rejects when only main cannot import a work module, and the started workers do not keep the process alive', async () => {
    const r = await runNode(['test/fixtures/startup-main-import-fails.mjs'], 20_000);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { name: string; message: string };
    expect(out.name).toBe('WorkgroupSetupException');
    expect(out.message).toMatch(/the main thread could not import work module .*main-import-fails\.mjs: main cannot load this module/);
    // Workers started meanwhile (launch() does not wait for main's import to spawn them): the process exits anyway.
  });
});

describe('loading the library', () => {
  it("reads none of Node's lazily loaded globals (fetch, Blob, streams) in main or in a worker, and still refuses those objects by name", async () => {
    const r = await runNode(['test/fixtures/startup-lazy-globals.mjs'], 20_000);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim()) as { before: string[]; main: string[]; worker: string[]; refusals: string[] };
    expect({ before: out.before, main: out.main, worker: out.worker }).toEqual({ before: [], main: [], worker: [] });
    expect(out.refusals).toEqual([
      'job.value is a Blob: platform objects cannot be sent through the workgroup; send plain data instead',
      'job.value is a Response: platform objects cannot be sent through the workgroup; send plain data instead',
      'job.value is a ReadableStream: platform objects cannot be sent through the workgroup; send plain data instead',
      'job.value is a AbortSignal: platform objects cannot be sent through the workgroup; send plain data instead',
    ]);
  });
});

describe('shutdown()', () => {
  it('settles, and lets the process exit, when it comes while a worker is still starting', async () => {
    const r = await runNode(['test/fixtures/startup-shutdown-while-starting.mjs'], 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout.trim()) as string[];
    expect(results).toHaveLength(16);
    for (let i = 0; i < 16; i += 2) {
      expect(results[i]).toBe('pong');
      expect(['ready', 'WorkgroupInactiveException']).toContain(results[i + 1]); // launch() settles either way
    }
  });

  const membersUrl = new URL('../fixtures/shutdown-members.mjs', import.meta.url);

  it("runs the members' dispose() on the workers that hold members, and stops every worker", async () => {
    const { Tracked } = (await import(membersUrl.href)) as { Tracked: new (flags: Int32Array, slot: number) => InstanceType<typeof lib.WorkgroupMember> };
    const wg = new lib.IsolateWorkgroup(3, { modules: [membersUrl] });
    await wg.launch();
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const a = await wg.addInstance(new Tracked(flags, 0), { isolate: 1 });
    const b = await wg.addInstance(new Tracked(flags, 1), { isolate: 1 });
    expect([await a.invoke({}), await b.invoke({})]).toEqual([1, 1]);
    await within(wg.shutdown(), 10_000, 'shutdown()');
    expect([...flags]).toEqual([1, 1]);
    expect(wg.liveIsolateCount).toBe(0);
    expect(wg.state).toBe('disposed');
  });

  it('lets a dispose() that destroyInstance() started finish (its worker holds no member any more, but is not terminated at once)', async () => {
    const { SlowDispose } = (await import(membersUrl.href)) as { SlowDispose: new (flags: Int32Array, slot: number) => InstanceType<typeof lib.WorkgroupMember> };
    const wg = new lib.IsolateWorkgroup(1, { modules: [membersUrl] });
    await wg.launch();
    const flags = new Int32Array(new SharedArrayBuffer(4));
    const m = await wg.addInstance(new SlowDispose(flags, 0));
    const destroyed = wg.destroyInstance(m);
    const t0 = Date.now();
    while (Atomics.load(flags, 0) === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 1));
    expect(Atomics.load(flags, 0)).toBe(1); // dispose() has started
    await within(wg.shutdown(), 10_000, 'shutdown()');
    await within(destroyed, 10_000, 'destroyInstance()');
    expect(Atomics.load(flags, 0)).toBe(2); // and finished
  });
});
