// Type tests of the call surface: invoke() accepts only the commands the member's handle() takes (no
// `unknown` overload), and call options are checked as object literals (a typo does not compile).
import { expectTypeOf } from 'vitest';
import { IsolateWorkgroup, WorkerCommand, WorkgroupJob, WorkgroupMember, type MemberProxy, type RunContext } from '../../src/index.js';

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
/** A member that takes plain numbers: the result type comes from handle(). */
class Doubler extends WorkgroupMember {
  async handle(n: number): Promise<number> {
    return n * 2;
  }
}
class Job extends WorkgroupJob<number> {
  execute(): number {
    return 1;
  }
}

declare const wg: IsolateWorkgroup;
declare const store: MemberProxy<Store>;
declare const doubler: MemberProxy<Doubler>;
declare const anyMember: MemberProxy;

expectTypeOf(store.invoke(new Get())).toEqualTypeOf<Promise<string>>();
expectTypeOf(store.invoke(new Put('x'))).toEqualTypeOf<Promise<void>>();
expectTypeOf(doubler.invoke(21)).toEqualTypeOf<Promise<number>>();
expectTypeOf(anyMember.invoke({ anything: true })).toEqualTypeOf<Promise<unknown>>();
expectTypeOf(store.memberId).toEqualTypeOf<number>();

// @ts-expect-error -- a command the member's handle() does not take
void store.invoke({ nonsense: true });
// @ts-expect-error -- a string where handle() takes a number
void doubler.invoke('21');
// @ts-expect-error -- unknown invoke option (a typo)
void store.invoke(new Get(), { timout: 5 });
// @ts-expect-error -- signal must be an AbortSignal
void store.invoke(new Get(), { signal: {} });
// @ts-expect-error -- unknown dispatch option (a typo)
void wg.dispatch(new Job(), { tiemout: 5 });
// @ts-expect-error -- onProgress must be a function
void wg.dispatch(new Job(), { onProgress: 5 });
// @ts-expect-error -- unknown addInstance option
void wg.addInstance(new Store(), { onNotfy: () => 1 });

// run(fn, ...args): typed from the function's signature.
declare function add(a: number, b: number): number;
declare function fetchStatus(this: RunContext, url: string): Promise<{ ok: boolean }>;
expectTypeOf(wg.run(add, 1, 2)).toEqualTypeOf<Promise<number>>();
expectTypeOf(wg.run(fetchStatus, 'https://example.org')).toEqualTypeOf<Promise<{ ok: boolean }>>();
expectTypeOf(wg.runWith(add, [1, 2], { timeout: 5, onProgress: () => {} })).toEqualTypeOf<Promise<number>>();
// @ts-expect-error -- an argument of the wrong type
void wg.run(add, 1, '2');
// @ts-expect-error -- a missing argument
void wg.run(add, 1);
// @ts-expect-error -- runWith takes the arguments as an array
void wg.runWith(add, 1, 2);
// @ts-expect-error -- not a function
void wg.run(new Job());
