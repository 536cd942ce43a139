/**
 * The codec's public surface: encode any sendable value (README, "Sendable data") straight into a byte frame, and decode
 * it back, with no structured clone, JSON or v8.serialize in between. The wire format is in `tags.ts`,
 * the walks in `encoder.ts` and `decoder.ts`.
 *
 * What survives for an instance of a class from a work module: its prototype (so `instanceof`, methods
 * and prototype getters work) and its own enumerable string-keyed properties (class fields, assigned
 * properties; an own accessor is sent as its current value and arrives as a data property). The
 * constructor does not run on the receiver. Not sent: `#private` fields (reading one on the receiver throws
 * the engine's TypeError "Cannot read private member … from an object whose class did not declare it"),
 * non-enumerable and symbol-keyed properties, and frozen/sealed state.
 *
 * Other rules and limits, all covered by test/unit/codec-*.test.ts:
 * - Plain objects and class instances: own enumerable string keys, in their order; symbol keys are
 *   skipped silently (symbol *values* are refused); a `"__proto__"` key stays an own property; null
 *   prototypes stay null. Arrays: elements and holes (a sparse array costs its elements, not its
 *   length); other own properties of an array are not sent.
 * - Errors: class (built-in, or a registered class; an unregistered subclass becomes its nearest built-in
 *   class with its `name` kept), `message`, `stack`, `cause`, `errors`, and own enumerable properties.
 *   An error is never refused for what it carries: an own property (or `cause`, `errors`, …) whose value
 *   cannot be sent arrives as the string `"[unsendable: <what>]"` (e.g. `"[unsendable: a function]"`,
 *   `"[unsendable: a symbol at .opts.key]"` for a bad value deeper inside it), so a thrown error always
 *   reaches the caller. Other objects are refused as below.
 * - Binary: ArrayBuffer, every typed array (Float16Array where the platform has it) and DataView. Views on
 *   a SharedArrayBuffer pass by reference (`EncodeHooks.sharedBuffer`); a view on part of a non-shared
 *   buffer copies only its window unless the frame refers to that buffer elsewhere too. Resizable buffers
 *   and length-tracking views arrive with their current, fixed length; a detached buffer arrives empty.
 *   Subclasses of typed arrays (Node's Buffer) arrive as their built-in class.
 * - Refused (UnsendableError with the path): functions and classes, symbols, promises, WeakMap, WeakSet,
 *   WeakRef, FinalizationRegistry, boxed primitives, platform objects (MessagePort, streams, …), subclasses
 *   of Array/Map/Set/Date/RegExp/ArrayBuffer, objects with a non-class prototype, unknown classes, the
 *   workgroup's own objects (`EncodeHooks.isForbidden`), and nesting deeper than 1000 levels. Objects from
 *   another realm (vm context, iframe) count as instances of unknown classes.
 * - Frames use the host's byte order: they never leave the process.
 */
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';
import { CodecError } from './errors.js';
import type { DecodeHooks, EncodeHooks } from './hooks.js';
import { ByteReader } from './reader.js';
import { ByteWriter } from './writer.js';

export { CodecError, DecodeSuspend, UnsendableError } from './errors.js';
/** Encode hooks may throw `new Refusal("is … : how to fix")` to refuse a value; the encoder prefixes the path. */
export { Refusal } from './paths.js';
export type { DecodeHooks, EncodeHooks } from './hooks.js';
export { ByteReader } from './reader.js';
export { ByteWriter } from './writer.js';

let idleEncoder: Encoder | undefined = new Encoder();
let idleDecoder: Decoder | undefined = new Decoder();

/**
 * Appends `value` to the frame `w` is writing (after `w.begin` or `w.beginScratch`). Throws
 * UnsendableError, naming the path from `rootName`, for a value that cannot be sent; the writer then
 * holds a partial frame to be discarded. Errors thrown by getters or hooks pass through.
 */
export function encodeValue(w: ByteWriter, value: unknown, hooks: EncodeHooks, rootName: string): void {
  const encoder = idleEncoder ?? new Encoder();
  idleEncoder = undefined;
  try {
    encoder.run(w, value, hooks, rootName);
  } finally {
    idleEncoder = encoder;
  }
}

/**
 * Reads one value from `r` (after `r.reset`). Throws CodecError for corrupt or truncated bytes; hook errors
 * (including DecodeSuspend) pass through, and the same bytes may then be decoded again.
 */
export function decodeValue(r: ByteReader, hooks: DecodeHooks): unknown {
  const decoder = idleDecoder ?? new Decoder();
  idleDecoder = undefined;
  try {
    return decoder.run(r, hooks);
  } finally {
    idleDecoder = decoder;
  }
}

/** Encodes `value` into a new Uint8Array (for tests and one-off uses). */
export function encodeToBytes(value: unknown, hooks: EncodeHooks, rootName: string): Uint8Array {
  const w = new ByteWriter();
  w.beginScratch();
  encodeValue(w, value, hooks, rootName);
  return w.bytes().slice();
}

/** Decodes a whole frame; bytes after the value are a CodecError. */
export function decodeFromBytes(u8: Uint8Array, hooks: DecodeHooks): unknown {
  const r = new ByteReader();
  r.reset(u8, 0, u8.length);
  const value = decodeValue(r, hooks);
  if (r.remaining !== 0) throw new CodecError(`${r.remaining} bytes after the value`, r.offset);
  return value;
}
