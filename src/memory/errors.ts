// Errors of the shared arena. Each has a stable `name` and `code`; messages say what happened and
// what to do. Bad arguments use one template: "expected `x` to be …, got …".

export type ArenaErrorCode =
  | 'ERR_ARENA_EXHAUSTED'
  | 'ERR_ARENA_USE_AFTER_RELEASE'
  | 'ERR_ARENA_DOUBLE_FREE'
  | 'ERR_ARENA_INVALID_HANDLE'
  | 'ERR_ARENA_OWNER'
  | 'ERR_INVALID_ARG';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  return value.constructor?.name ?? 'object';
}

/** `TypeError`/`RangeError` for a bad argument or option, with `code` 'ERR_INVALID_ARG'. */
export function invalidOption(
  Ctor: TypeErrorConstructor | RangeErrorConstructor,
  name: string,
  expected: string,
  got: unknown,
): TypeError | RangeError {
  const err = new Ctor(`expected \`${name}\` to be ${expected}, got ${describe(got)}`);
  Object.defineProperty(err, 'code', { value: 'ERR_INVALID_ARG', enumerable: true });
  return err;
}

/** The arena has no run of free segments for a request, even after collecting this thread's free memory. */
export class ArenaExhaustedError extends RangeError {
  override readonly name = 'ArenaExhaustedError';
  readonly code = 'ERR_ARENA_EXHAUSTED';
  readonly requestedBytes: number;
  readonly maxBytes: number;
  constructor(requestedBytes: number, maxBytes: number, liveBytes: number) {
    super(
      `shared arena exhausted: requested ${requestedBytes} bytes, maxBytes ${maxBytes}; raise \`arenaMaxBytes\`, ` +
        `release shared arrays sooner (${liveBytes} bytes are live in all threads now), ` +
        `or pass large payloads as non-shared ArrayBuffers`,
    );
    this.requestedBytes = requestedBytes;
    this.maxBytes = maxBytes;
  }
}

/** A handle or typed array whose block was released (and maybe reused) was used. */
export class ArenaUseAfterReleaseError extends Error {
  override readonly name = 'ArenaUseAfterReleaseError';
  readonly code = 'ERR_ARENA_USE_AFTER_RELEASE';
  constructor(offset: number, generation: number, detail: string) {
    super(
      `use after release: this shared array was released (offset ${offset}, generation ${generation}; ${detail}); ` +
        `keep an array until every thread is done with it, then release it once`,
    );
  }
}

/** `free`/`release` of a block that is not live any more under that handle. */
export class ArenaDoubleFreeError extends Error {
  override readonly name = 'ArenaDoubleFreeError';
  readonly code = 'ERR_ARENA_DOUBLE_FREE';
  constructor(what: 'free' | 'release', offset: number, generation: number, detail: string) {
    super(
      what === 'release'
        ? `double release: this shared array was already released (offset ${offset}, generation ${generation}; ${detail})`
        : `double free: this shared block was already freed (offset ${offset}, generation ${generation}; ${detail})`,
    );
  }
}

/** Something that never was an arena allocation was passed where one is expected. */
export class ArenaInvalidHandleError extends TypeError {
  override readonly name = 'ArenaInvalidHandleError';
  readonly code = 'ERR_ARENA_INVALID_HANDLE';
}

/** Misuse of owner slots (out of range, attached twice, reclaiming oneself). */
export class ArenaOwnerError extends Error {
  override readonly name = 'ArenaOwnerError';
  readonly code = 'ERR_ARENA_OWNER';
}
