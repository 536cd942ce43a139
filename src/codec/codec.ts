/**
 * The codec's public surface: encode any sendable value (SPEC §2) straight into a byte frame, and decode
 * it back, with no structured clone, JSON or v8.serialize in between. The wire format is in `tags.ts`,
 * the walks in `encoder.ts` and `decoder.ts`.
 *
 * What survives for an instance of a class from a work module: its prototype (so `instanceof`, methods
 * and prototype getters work) and its own enumerable string-keyed properties (class fields, assigned
 * properties; an own accessor is sent as its current value and arrives as a data property). The
 * constructor does not run on the receiver. Not sent: `#private` fields (reading one on the receiver throws
 * the engine's TypeError "Cannot read private member … from an object whose class did not declare it"),
 * non-enumerable and symbol-keyed properties, and frozen/sealed state.
 */
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';
import { CodecError } from './errors.js';
import type { DecodeHooks, EncodeHooks } from './hooks.js';
import { ByteReader } from './reader.js';
import { ByteWriter } from './writer.js';

export { CodecError, DecodeSuspend, UnsendableError } from './errors.js';
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
