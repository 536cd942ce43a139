// Type-level tests: checked by `tsc --noEmit` (npm run typecheck, and test/unit/typecheck.test.ts).
import { expectTypeOf } from 'vitest';
import {
  IsolateErrorType,
  IsolateWorkgroup,
  WorkerCommand,
  WorkgroupHealthConfig,
  WorkgroupJob,
  WorkgroupMember,
  type MemberProxy,
} from '../../src/index.js';

class Add extends WorkgroupJob<number> {
  constructor(readonly_a: number, readonly_b: number) {
    super();
    this.a = readonly_a;
    this.b = readonly_b;
  }
  a: number;
  b: number;
  execute(): number {
    return this.a + this.b;
  }
}

class Fetch extends WorkgroupJob {
  async execute(): Promise<{ ok: boolean }> {
    return { ok: true };
  }
}

class Get extends WorkerCommand<string> {}
class Put extends WorkerCommand<void> {
  value: string;
  constructor(value: string) {
    super();
    this.value = value;
  }
}

class Store extends WorkgroupMember {
  value = '';
  handle(command: Get | Put): string | void {
    if (command instanceof Put) this.value = command.value;
    else return this.value;
  }
}

declare const wg: IsolateWorkgroup;

expectTypeOf(wg.dispatch(new Add(1, 2))).toEqualTypeOf<Promise<number>>();
expectTypeOf(wg.dispatch(new Fetch())).toEqualTypeOf<Promise<{ ok: boolean }>>();
expectTypeOf(wg.dispatch(new Add(1, 2), 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(wg.dispatch(new Add(1, 2), { isolate: 1, timeout: 10 })).toEqualTypeOf<Promise<number>>();

declare const proxy: MemberProxy<Store>;
expectTypeOf(proxy.invoke(new Get())).toEqualTypeOf<Promise<string>>();
expectTypeOf(proxy.invoke(new Put('x'))).toEqualTypeOf<Promise<void>>();
expectTypeOf(wg.addInstance(new Store())).toEqualTypeOf<Promise<MemberProxy<Store>>>();

expectTypeOf(wg.allocate(Float64Array, 8)).toEqualTypeOf<Float64Array<SharedArrayBuffer> & Disposable>();
expectTypeOf(wg.stats().sharedMemory.liveBytes).toEqualTypeOf<number>();
expectTypeOf(wg.healthStatus.get(0)?.busy).toEqualTypeOf<boolean | undefined>();
expectTypeOf(WorkgroupHealthConfig.aggressive().pingTimeoutMs).toEqualTypeOf<number>();
wg.setErrorHandler(IsolateErrorType.job, (error, info) => {
  expectTypeOf(error).toEqualTypeOf<unknown>();
  expectTypeOf(info.isolateIndex).toEqualTypeOf<number>();
});

// @ts-expect-error -- dispatch takes a job, not a plain function
void wg.dispatch(() => 1);
// @ts-expect-error -- the index is a number
void wg.dispatch(new Add(1, 2), '1');
