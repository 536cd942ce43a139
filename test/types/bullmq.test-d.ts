// Type-level tests of isolate-workgroup/bullmq: RemoteWorkgroup is typed like the local workgroup.
import { expectTypeOf } from 'vitest';
import { WorkgroupJob } from '../../src/index.js';
import { RemoteWorkgroup, serveWorkgroup, type WorkgroupServer } from '../../src/bullmq/index.js';

class Add extends WorkgroupJob<number> {
  a = 1;
  b = 2;
  execute(): number {
    return this.a + this.b;
  }
}

class Fetch extends WorkgroupJob {
  async execute(): Promise<{ ok: boolean }> {
    return { ok: true };
  }
}

const remote = new RemoteWorkgroup({ connection: { host: '127.0.0.1', port: 6379 }, queue: 'q', modules: { work: new URL('file:///work.js') } });
expectTypeOf(remote.dispatch(new Add())).toEqualTypeOf<Promise<number>>();
expectTypeOf(remote.dispatch(new Fetch(), { priority: 1, attempts: 3, timeout: 100 })).toEqualTypeOf<Promise<{ ok: boolean }>>();
expectTypeOf(remote.dispatch(new Add(), { onProgress: (v: unknown) => void v })).toEqualTypeOf<Promise<number>>();
expectTypeOf(remote.dispatchAll([new Add(), new Fetch()] as const)).toEqualTypeOf<Promise<[number, { ok: boolean }]>>();
expectTypeOf(remote.dispatchAll([new Add(), new Add()])).toEqualTypeOf<Promise<[number, number]>>();
const many: Add[] = [];
expectTypeOf(remote.dispatchAll(many)).toEqualTypeOf<Promise<number[]>>();
expectTypeOf(remote.result<string>('id')).toEqualTypeOf<Promise<string>>();
expectTypeOf(serveWorkgroup({ connection: { port: 6379 }, queue: 'q', modules: [new URL('file:///work.js')], workerCount: 2 })).toEqualTypeOf<Promise<WorkgroupServer>>();
// @ts-expect-error -- a job id is per job: dispatchAll has none
void remote.dispatchAll([new Add()], { jobId: 'x' });
// @ts-expect-error -- not a job
void remote.dispatch({ a: 1 });
