// The portable codec of isolate-workgroup/bullmq, in one process (no Redis): classes by module name +
// export name, the frame header (magic, version, byte order) refused clearly when wrong, the failure
// text format, and the remote-marked stack.
import { describe, expect, it } from 'vitest';
import { normalizeModules, PortableCodec, UnknownRemoteClassError } from '../../src/bullmq/portable-codec.js';
import { failureText, markRemoteStack, parseFailure } from '../../src/bullmq/wire.js';
import { WorkgroupTimeoutException } from '../../src/api/errors.js';

const workUrl = new URL('../fixtures/remote-work.mjs', import.meta.url);

async function codec(modules: Parameters<typeof normalizeModules>[0] = { work: workUrl }): Promise<PortableCodec> {
  const c = new PortableCodec(normalizeModules(modules));
  await c.load();
  return c;
}

describe('portable codec', () => {
  it('sends instances of work-module classes by module name + export name, and errors with their class', async () => {
    const producer = await codec();
    const machine = await codec({ work: new URL(workUrl.href) });
    const work = await import(workUrl.href);
    const job = new work.Square('k', 7, 0);
    expect(producer.idOf(work.Square)).toBe('work#Square');
    const back = machine.decode(producer.encode(job, 'job')) as typeof job;
    expect(back).toBeInstanceOf(work.Square);
    expect(back).toEqual(job);
    const err = new work.RemoteBoom('boom', { cause: new RangeError('inner') });
    const e = machine.decode(producer.encode(err, 'error')) as Error;
    expect(e).toBeInstanceOf(work.RemoteBoom);
    expect(e.cause).toBeInstanceOf(RangeError);
    const t = machine.decode(producer.encode(new WorkgroupTimeoutException('dispatch', 5, 'x'), 'error'));
    expect(t).toBeInstanceOf(WorkgroupTimeoutException);
  });

  it('names an array module by its file name, and refuses duplicate or bad names', () => {
    expect(normalizeModules([workUrl])).toEqual([['remote-work', workUrl.href]]);
    expect(() => normalizeModules([workUrl, new URL(workUrl.href)])).toThrow(/two modules in `modules` have the name "remote-work"/);
    expect(() => normalizeModules({ 'a#b': workUrl })).toThrow(/without '#'/);
    expect(() => normalizeModules({ 'isolate-workgroup': workUrl })).toThrow(/not 'isolate-workgroup'/);
    expect(() => normalizeModules({ w: './work.js' })).toThrow(/expected `modules.w` to be an absolute URL/);
  });

  it('refuses a class it does not know on decode with the id and the known modules', async () => {
    const producer = await codec({ work: workUrl, extra: new URL('../fixtures/remote-extra.mjs', import.meta.url) });
    const machine = await codec();
    const { OnlyOnProducer } = await import(new URL('../fixtures/remote-extra.mjs', import.meta.url).href);
    const text = producer.encode(new OnlyOnProducer(), 'job');
    expect(() => machine.decode(text)).toThrow(UnknownRemoteClassError);
    expect(() => machine.decode(text)).toThrow(/class "extra#OnlyOnProducer" is not known on this machine: its modules are "work"/);
  });

  it('refuses text that is not a frame, another format version and the other byte order, clearly', async () => {
    const c = await codec();
    const good = Buffer.from(c.encode(42, 'v'), 'base64');
    expect(c.decode(good.toString('base64'))).toBe(42);
    expect(() => c.decode({ hello: 1 })).toThrow(/expected an isolate-workgroup frame \(base64 text\), got object/);
    expect(() => c.decode(Buffer.from('{"json":true}').toString('base64'))).toThrow(/not an isolate-workgroup frame/);
    const version = Buffer.from(good);
    version[1] = 9;
    expect(() => c.decode(version.toString('base64'))).toThrow(/frame format version 9 is not supported \(this side reads version 1\)/);
    const order = Buffer.from(good);
    order[2] = order[2] === 1 ? 2 : 1;
    expect(() => c.decode(order.toString('base64'))).toThrow(/written on a machine of the other byte order/);
    const truncated = good.subarray(0, 4);
    expect(() => c.decode(truncated.toString('base64'))).toThrow(/\(at byte \d+\)/);
  });

  it('refuses shared memory with the path and the fix', async () => {
    const c = await codec();
    expect(() => c.encode({ data: new Int32Array(new SharedArrayBuffer(8)) }, 'job')).toThrow(/job\.data is shared memory .*send a copy/);
  });
});

describe('failure text and remote stacks', () => {
  it('round-trips the machine and the frame through failedReason, with a readable first line', () => {
    const text = failureText(new TypeError('bad'), 'host:12', 'QUJD');
    expect(text.split('\n')[0]).toBe('TypeError: bad');
    expect(parseFailure(text)).toEqual({ head: 'TypeError: bad', machine: 'host:12', frame: 'QUJD' });
    expect(parseFailure('Error: job stalled more than allowable limit')).toBeUndefined();
  });

  it('marks the machine sections and appends the producer side', () => {
    const e = new Error('x');
    e.stack = 'Error: x\n=== Stack trace in worker (where the error was thrown) ===\n    at w (w.js:1:1)\n=== Stack trace in main (where the call was made) ===\n    at m (m.js:1:1)';
    markRemoteStack(e, 'h:1', 'Error\n    at p (p.js:1:1)');
    expect(e.stack).toBe(
      'Error: x\n=== Stack trace in worker on machine h:1 (where the error was thrown) ===\n    at w (w.js:1:1)\n' +
        '=== Stack trace in main on machine h:1 ===\n    at m (m.js:1:1)\n' +
        '=== Stack trace in producer (where the call was made) ===\n    at p (p.js:1:1)',
    );
  });
});
