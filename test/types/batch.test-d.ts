// Type tests of the batch path: results typed per job for a tuple, per element for an array.
import { IsolateWorkgroup, WorkgroupJob } from '../../src/index.js';

class Add extends WorkgroupJob<number> {
  a = 1;
  execute(): number {
    return this.a + 1;
  }
}
class Name extends WorkgroupJob<string> {
  execute(): Promise<string> {
    return Promise.resolve('x');
  }
}

declare const wg: IsolateWorkgroup;

export async function typed(): Promise<void> {
  const [n, s] = await wg.dispatchAll([new Add(), new Name()]);
  const num: number = n;
  const str: string = s;
  // @ts-expect-error -- the second result is a string
  const wrong: number = s;
  const many: number[] = await wg.dispatchAll([new Add(), new Add()] as Add[]);
  const settled = await wg.dispatchAllSettled([new Add(), new Name()]);
  if (settled[0].status === 'fulfilled') {
    const v: number = settled[0].value;
    void v;
  }
  // @ts-expect-error -- not jobs
  await wg.dispatchAll([1, 2]);
  await wg.dispatchAll([new Add()], { onProgress: (value: unknown, index: number) => void [value, index], timeout: 10 });
  await wg.dispatchAllSettled([new Add()], { chunkSize: 64 });
  // @ts-expect-error -- chunkSize is a number of jobs
  await wg.dispatchAll([new Add()], { chunkSize: '64' });
  void [num, str, wrong, many];
}
