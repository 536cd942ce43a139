import { afterEach, describe, expect, it } from 'vitest';
import { launched, lib, work } from './helpers.js';

let wg: InstanceType<typeof lib.IsolateWorkgroup> | undefined;
afterEach(async () => {
  await wg?.shutdown();
  wg = undefined;
});

describe('errors from user code', () => {
  it('keep their built-in class, message and both stack sections', async () => {
    wg = await launched(1);
    const err = (await wg.dispatch(new work.Throw('type', 'bad input')).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('bad input');
    expect(err.stack).toContain('Stack trace in worker');
    expect(err.stack).toContain('Stack trace in main');
    expect(err.stack).toMatch(/Stack trace in worker[\s\S]*work\.mjs[\s\S]*Stack trace in main[\s\S]*errors\.test\.ts/);
  });

  it('keep a class exported from a work module and its own properties', async () => {
    wg = await launched(1);
    const err = (await wg.dispatch(new work.Throw('custom', 'invalid email')).catch((e: unknown) => e)) as Error & { field: string };
    expect(err).toBeInstanceOf(work.ValidationError);
    expect(err.name).toBe('ValidationError');
    expect(err.field).toBe('email');
  });

  it('keep cause and own properties', async () => {
    wg = await launched(1);
    const withCause = (await wg.dispatch(new work.Throw('cause', 'outer')).catch((e: unknown) => e)) as Error;
    expect(withCause.cause).toBeInstanceOf(RangeError);
    expect((withCause.cause as Error).message).toBe('inner');
    const withProps = (await wg.dispatch(new work.Throw('props', 'p')).catch((e: unknown) => e)) as Error & { code: string; details: unknown };
    expect(withProps.code).toBe('E_BAD');
    expect(withProps.details).toEqual({ n: 1 });
  });

  it('arrive even when they carry unsendable values: those properties become "[unsendable: …]" strings', async () => {
    wg = await launched(1);
    const err = (await wg.dispatch(new work.ThrowUnsendable()).catch((e: unknown) => e)) as Error & { retry: unknown; code: string; field: string };
    expect(err).toBeInstanceOf(work.ValidationError);
    expect(err).not.toBeInstanceOf(lib.WorkgroupException);
    expect(err.message).toBe('has fn');
    expect(err.field).toBe('email');
    expect(err.code).toBe('E_RETRY');
    expect(err.retry).toBe('[unsendable: a function]');
    expect(err.cause).toBeInstanceOf(RangeError);
    expect((err.cause as Error & { tag: unknown }).tag).toBe('[unsendable: a symbol]');
    expect(err.stack).toContain('Stack trace in worker');
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3);
  });

  it('wrap a thrown non-Error in WorkgroupIsolateError with the original value', async () => {
    wg = await launched(1);
    const err = (await wg.dispatch(new work.Throw('string', '')).catch((e: unknown) => e)) as InstanceType<typeof lib.WorkgroupIsolateError>;
    expect(err).toBeInstanceOf(lib.WorkgroupIsolateError);
    expect(err.originalError).toBe('just a string');
    expect(err.isolateIndex).toBe(0);
  });

  it('fire the job handler exactly once; a specific handler wins over all', async () => {
    wg = await launched(1);
    const calls: string[] = [];
    wg.setErrorHandler(lib.IsolateErrorType.all, () => calls.push('all'));
    wg.setErrorHandler(lib.IsolateErrorType.job, (_e, info) => calls.push(`job@${info.isolateIndex}`));
    await wg.dispatch(new work.Throw('plain', 'x')).catch(() => {});
    expect(calls).toEqual(['job@0']);
    wg.removeErrorHandler(lib.IsolateErrorType.job);
    await wg.dispatch(new work.Throw('plain', 'x')).catch(() => {});
    expect(calls).toEqual(['job@0', 'all']);
    wg.clearErrorHandlers();
    await wg.dispatch(new work.Throw('plain', 'x')).catch(() => {});
    expect(calls).toEqual(['job@0', 'all']);
  });

  it('an async handler that rejects breaks nothing (no unhandled rejection), the logger hears of it', async () => {
    const logged: string[] = [];
    wg = await launched(1, { logger: { error: (m: string) => logged.push(m) } });
    wg.setErrorHandler(lib.IsolateErrorType.job, async () => {
      await null;
      throw new Error('async handler bug');
    });
    await expect(wg.dispatch(new work.Throw('plain', 'x'))).rejects.toThrow('x');
    await new Promise((r) => setTimeout(r, 10));
    expect(logged.some((m) => m.includes('handler rejected'))).toBe(true);
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3);
  });

  it('a handler that throws breaks nothing', async () => {
    wg = await launched(1);
    wg.setErrorHandler(lib.IsolateErrorType.job, () => {
      throw new Error('handler bug');
    });
    await expect(wg.dispatch(new work.Throw('plain', 'x'))).rejects.toThrow('x');
    await expect(wg.dispatch(new work.Add(1, 2))).resolves.toBe(3);
  });

  it('an uncaught error in a worker timer reaches the unknown handler and the worker keeps serving', async () => {
    wg = await launched(1);
    const seen = new Promise<unknown>((resolve) => wg!.setErrorHandler(lib.IsolateErrorType.unknown, (e) => resolve(e)));
    await expect(wg.dispatch(new work.ThrowInTimer())).resolves.toBe('scheduled');
    const err = (await seen) as Error;
    expect(err.message).toBe('boom from a timer');
    await expect(wg.dispatch(new work.Add(2, 3))).resolves.toBe(5);
  });

  it('setErrorHandler rejects an unknown type and a non-function handler', async () => {
    wg = await launched(1);
    expect(() => wg!.setErrorHandler('nope' as never, () => {})).toThrow(TypeError);
    expect(() => wg!.setErrorHandler(lib.IsolateErrorType.job, 42 as never)).toThrow(TypeError);
  });
});

describe('captureMainStack modes', () => {
  it("'eager' captures the caller's synchronous stack at dispatch", async () => {
    wg = await launched(1, { captureMainStack: 'eager' });
    const err = (await wg.dispatch(new work.Throw('type', 'eager')).catch((e: unknown) => e)) as Error;
    expect(err.stack).toMatch(/Stack trace in worker[\s\S]*Stack trace in main[\s\S]*errors\.test\.ts/);
  });

  it('false leaves the worker-side stack only (no sections)', async () => {
    wg = await launched(1, { captureMainStack: false });
    const err = (await wg.dispatch(new work.Throw('type', 'off')).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(TypeError);
    expect(err.stack).not.toContain('Stack trace in main');
    expect(err.stack).toContain('work.mjs');
  });

  it('rejects an invalid value, naming the option', () => {
    expect(() => new lib.IsolateWorkgroup(1, { captureMainStack: 'lazy' as never })).toThrow("expected `captureMainStack` to be true, false or 'eager'");
  });
});
