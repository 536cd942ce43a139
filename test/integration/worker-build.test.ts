// The worker build of the public entry: a work module's `import 'isolate-workgroup'` inside a workgroup's
// Node worker resolves (through the `isolate-workgroup-worker` condition the library starts its workers
// with) to dist/index.worker.js — the same names and classes, without the main-thread code. Process-level
// behaviour (node options, how workers are started) runs in child processes with plain node.
import { describe, expect, it } from 'vitest';
import { runNode } from './run-node.js';

interface Answers {
  preloaded: boolean;
  where: { resolved: string; full: string; execArgv: string[]; preloaded: boolean };
  fork: { resolved: string; started: true | string };
  start: { started?: boolean; name?: string; message?: string };
  full: { workgroup: boolean; sameJobClass: boolean };
}

async function run(nodeOptions: string[], workerOptions?: object): Promise<Answers> {
  const r = await runNode([...nodeOptions, 'test/fixtures/worker-build-main.mjs', ...(workerOptions ? [JSON.stringify(workerOptions)] : [])], 30_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Answers;
}

describe('the worker build of the public entry (Node)', () => {
  it("is what a work module's import 'isolate-workgroup' gets inside a worker; the full entry stays reachable as isolate-workgroup/full", async () => {
    const a = await run([]);
    expect(a.where.resolved).toMatch(/\/dist\/index\.worker\.js$/);
    expect(a.where.full).toMatch(/\/dist\/index\.js$/);
    expect(a.full).toEqual({ workgroup: true, sameJobClass: true });
  });

  it('is not passed on to a program a job starts with child_process.fork(): there the name means the full entry', async () => {
    const a = await run([]);
    expect(a.where.execArgv).toEqual([]); // the worker took the condition back out of its process.execArgv
    expect(a.fork.resolved).toMatch(/\/dist\/index\.js$/);
    expect(a.fork.started).toBe(true);
  });

  it('refuses to start a workgroup from the worker build with an error that names the fix', async () => {
    const a = await run([]);
    expect(a.start.name).toBe('WorkgroupException');
    expect(a.start.message).toMatch(/IsolateWorkgroup is not in the worker build of isolate-workgroup.*import it from 'isolate-workgroup\/full'/);
  });

  it("keeps the parent's node options a worker accepts and leaves out those Node refuses in a worker", async () => {
    const a = await run(['--max-old-space-size=256', '--title=iwg-worker-build', '--no-warnings']);
    expect(a.where.resolved).toMatch(/\/dist\/index\.worker\.js$/);
    expect(a.where.execArgv).toEqual(['--no-warnings']);
  });

  it('leaves out the value of a refused option given as the next argument, and keeps the preloads after it', async () => {
    // Node names the refused option without its value; a value left behind would end Node's reading of options.
    const a = await run(['--title', 'iwg-worker-build', '--import', './test/fixtures/worker-build-preload.mjs']);
    expect(a.preloaded).toBe(true);
    expect(a.where.preloaded).toBe(true);
    expect(a.where.resolved).toMatch(/\/dist\/index\.worker\.js$/);
    expect(a.where.execArgv).toEqual(['--import', './test/fixtures/worker-build-preload.mjs']);
  });

  it('starts workers from a program given with --input-type=module -e (the option is the main script\'s, and a worker refuses it)', async () => {
    const program = `const { IsolateWorkgroup } = await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)});
      const url = new URL(${JSON.stringify(new URL('../fixtures/worker-build.mjs', import.meta.url).href)});
      const { Where } = await import(url.href);
      const wg = new IsolateWorkgroup(1, { modules: [url] });
      await wg.launch();
      const where = await wg.dispatch(new Where());
      await wg.shutdown();
      console.log(JSON.stringify(where));`;
    const r = await runNode(['--input-type=module', '-e', program], 30_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout.trim()) as Answers['where']).resolved).toMatch(/\/dist\/index\.worker\.js$/);
  });

  it("adds the condition to the user's own workerOptions.execArgv", async () => {
    const a = await run(['--no-deprecation'], { execArgv: ['--no-warnings'] });
    expect(a.where.execArgv).toEqual(['--no-warnings']);
    expect(a.where.resolved).toMatch(/\/dist\/index\.worker\.js$/);
  });
});

describe('dist/index.worker.js', () => {
  it('exports the same names as the full entry, and the same classes', async () => {
    const dist = (file: string): Promise<Record<string, unknown>> => import(new URL(`../../dist/${file}`, import.meta.url).href) as Promise<Record<string, unknown>>;
    const worker = await dist('index.worker.js');
    const full = await dist('index.js');
    expect(Object.keys(worker).sort()).toEqual(Object.keys(full).sort());
    const mainOnly = ['IsolateWorkgroup', 'CallbackWorkgroup', 'MemberProxy'];
    for (const name of Object.keys(full)) if (!mainOnly.includes(name)) expect(worker[name], name).toBe(full[name]);
    for (const name of mainOnly) expect(() => new (worker[name] as new () => unknown)(), name).toThrow(/is not in the worker build of isolate-workgroup/);
  });
});
