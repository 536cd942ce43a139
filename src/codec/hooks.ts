/**
 * How the codec reaches the rest of the workgroup: the class table, the shared-buffer table, and the
 * out-of-band path for big binary data. The codec itself keeps no global registry.
 */

export interface EncodeHooks {
  /** Identifies a class instance's constructor. Returns a number (an id in the shared class table) or a
   *  string id ("<module url>#<export name>"), or undefined when the class is unknown: encoding then
   *  throws UnsendableError naming the class and the path, with the fix (export it from a work module
   *  listed in `modules`, or add `static module = import.meta.url` to the class). For an Error subclass,
   *  undefined is not a refusal: the error is sent as its nearest built-in error class, name kept.
   *  A defined answer must stay valid while the hooks object is in use: the encoder remembers the last
   *  class it resolved per hooks object and does not ask again for a run of instances of that class. */
  classRef(ctor: Function): number | string | undefined;
  /** Returns an int32 id (negative ids are fine) for a SharedArrayBuffer, growable or not; the receiver
   *  maps it back. Called once per distinct buffer in a frame. */
  sharedBuffer(buffer: SharedArrayBuffer): number;
  /** Optional: a short description (e.g. "an IsolateWorkgroup") for objects and functions that must never
   *  be sent (the workgroup's own objects, its proxies); undefined for everything else. Called once per
   *  distinct object or function in the value. Like every encode hook, it may also throw a `Refusal`
   *  (from paths.ts) with its own reason: the caller gets an UnsendableError with the path prefixed. */
  isForbidden?(value: object): string | undefined;
  /** Optional: offered the bytes of a non-shared ArrayBuffer (or of a view's window of one) of at least
   *  `bigBinaryThreshold` bytes, and of every buffer listed in `transfer` (then `bytes` covers the whole
   *  buffer and `transfer` is true). It may take the bytes out of band (copy them into shared memory, or
   *  transfer the buffer) and return an integer handle, or return undefined to have them encoded inline.
   *  It must not keep `bytes` beyond the call unless it transfers the buffer. */
  bigBinary?(bytes: Uint8Array, transfer: boolean): number | undefined;
  /** Optional: gives back a handle from `bigBinary` that the frame ended up not using (the encode threw,
   *  or started over). Every handle is either in the finished frame or passed here exactly once. */
  discardBigBinary?(handle: number): void;
  /** Optional: a 32-bit check value the frame carries beside a `bigBinary` handle (the arena block's
   *  generation), handed back to the decode hook, so a frame decoded after its block was freed and reused
   *  is refused instead of reading another payload's bytes. */
  bigBinaryCheck?(handle: number): number;
  /** Default 64 KiB. */
  bigBinaryThreshold?: number;
  /** Buffers the caller listed in `transfer`. */
  transfer?: ReadonlySet<ArrayBuffer>;
}

export interface DecodeHooks {
  /** Maps a class ref back to a constructor. May throw `new DecodeSuspend(promise)` when the class's
   *  module must be imported first: the caller awaits the promise and decodes the same bytes again (so
   *  every decode hook may be called again for the same ref, id or handle). */
  classByRef(ref: number | string): Function;
  /** Maps an id back to its SharedArrayBuffer; may also throw DecodeSuspend. */
  sharedBuffer(id: number): SharedArrayBuffer;
  /** Returns the ArrayBuffer (of exactly `byteLength` bytes) for a `bigBinary` handle. Decoding a frame
   *  with one and no hook is a CodecError. A suspended decode may call it again for the same handle. */
  bigBinary?(handle: number, byteLength: number, check: number): ArrayBuffer;
}
