/**
 * Decoding helpers shared by the main thread's and the workers' codecs: one decode with the out-of-band
 * bookkeeping around it, and the retry loop for decodes that must wait (a module import, a buffer).
 */
import { decodeValue, type DecodeHooks } from '../codec/codec.js';
import { DecodeSuspend } from '../codec/errors.js';
import type { ByteReader } from '../codec/reader.js';
import type { OutOfBand } from './out-of-band.js';

/** Decodes `u8[start..end)`. May throw DecodeSuspend; then nothing out of band was consumed. */
export function decodeFrame(reader: ByteReader, hooks: DecodeHooks, oob: OutOfBand, u8: Uint8Array, start: number, end: number): unknown {
  reader.reset(u8, start, end);
  oob.beginDecode();
  let value: unknown;
  try {
    value = decodeValue(reader, hooks);
  } catch (e) {
    oob.endDecode(!(e instanceof DecodeSuspend));
    throw e;
  }
  oob.endDecode(true);
  return value;
}

/** Runs `decode` again after each DecodeSuspend has settled (at most 64 waits). */
export async function decodeRetrying(decode: () => unknown): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return decode();
    } catch (e) {
      if (!(e instanceof DecodeSuspend) || attempt > 64) throw e;
      await e.until;
    }
  }
}
