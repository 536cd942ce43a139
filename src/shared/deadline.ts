/**
 * A call's `timeout` and `signal` hold from the moment it is made, also while the call waits before it is
 * sent (for the import of a class's module on the main thread, or a health probe before a pinned
 * dispatch with `checkBeforeDispatching`): `waitWithin` bounds such a wait by the
 * same timeout and signal. (The call then gets its whole timeout again once sent, so that a timeout error
 * always reports the `timeoutMs` the caller gave: a call can take at most twice its timeout to time out.)
 */
import { WorkgroupJobAbortedException, WorkgroupTimeoutException } from './errors.js';

export interface Deadline {
  readonly signal?: AbortSignal | undefined;
  readonly timeout?: number | undefined;
}

/**
 * Resolves with the options once `wait` settles; rejects with WorkgroupTimeoutException when the timeout passes first, with the signal's abort
 * error when it aborts first, or with `wait`'s own error.
 */
export function waitWithin<O extends Deadline>(wait: Promise<unknown>, options: O | undefined, operation: string, what: string): Promise<O | undefined> {
  const signal = options?.signal;
  const timeout = options?.timeout;
  if (signal === undefined && timeout === undefined) return wait.then(() => options);
  return new Promise<O | undefined>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      done();
      const reason: unknown = signal!.reason;
      reject(new WorkgroupJobAbortedException(`the ${what} was aborted by its signal${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason }));
    };
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        done();
        reject(new WorkgroupTimeoutException(operation, timeout, `the ${what} was still waiting to be sent (for the import of its class's module, or a health probe of its worker)`));
      }, timeout);
    }
    wait.then(
      () => {
        done();
        resolve(options);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
