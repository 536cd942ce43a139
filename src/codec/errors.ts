/**
 * The codec's three error types. The workgroup layer wraps `UnsendableError` and `CodecError` into its
 * own `WorkgroupException`s (with `cause` set to these); `DecodeSuspend` is control flow, not a failure.
 */

/** Decoding failed: the bytes are corrupt or truncated. `offset` is the byte offset (in the frame's
 *  buffer) where the bad data was found. */
export class CodecError extends Error {
  readonly offset: number;
  readonly code = 'ERR_CODEC_CORRUPT';

  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'CodecError';
    this.offset = offset;
  }
}

/** Encoding refused a value that cannot be sent. `path` names it, rooted at the encode call's
 *  `rootName` (`job.options.onDone`, `job.list[3]`, `job.m.get("k")`); the message starts with it. */
export class UnsendableError extends Error {
  readonly path: string;
  readonly code = 'ERR_UNSENDABLE';

  constructor(path: string, message: string) {
    super(message);
    this.name = 'UnsendableError';
    this.path = path;
  }
}

/** Thrown by a decode hook when it needs to wait (e.g. to import a class's module): the caller awaits
 *  `until` and decodes the same bytes again from the start (copying them out of a ring first if the ring
 *  slot must be released meanwhile). The codec itself has no side effects to undo; the hooks must accept
 *  being asked again for what they already answered. */
export class DecodeSuspend extends Error {
  readonly until: Promise<unknown>;

  constructor(until: Promise<unknown>) {
    super('decoding must wait for a module to load; await `until` and decode again');
    this.name = 'DecodeSuspend';
    this.until = until;
  }
}

/** Thrown by a decode hook for a class this thread cannot have (its module cannot be imported here). An
 *  error of that class is rebuilt as a plain `Error` (name, message, stack, cause and fields kept);
 *  anything else fails to decode with this message. */
export class ClassUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClassUnavailableError';
  }
}
