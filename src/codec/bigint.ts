/**
 * BigInt payloads: sign in the tag (BIGINT_POS / BIGINT_NEG), then the magnitude as a byte count and
 * big-endian bytes. Both directions go through hexadecimal text, which V8 converts in linear time for
 * a power-of-two radix, so a bigint of any size costs time in proportion to its size; magnitudes that fit
 * in 48 bits are decoded with plain number arithmetic.
 */
import type { ByteReader } from './reader.js';
import type { ByteWriter } from './writer.js';
import { Tag } from './tags.js';

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

export function encodeBigInt(w: ByteWriter, v: bigint): void {
  const negative = v < 0n;
  const magnitude = negative ? -v : v;
  if (magnitude === 0n) {
    w.u8x2(Tag.BIGINT_POS, 0);
    return;
  }
  let hex = magnitude.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const n = hex.length / 2;
  w.tagVarint(negative ? Tag.BIGINT_NEG : Tag.BIGINT_POS, n);
  const at = w.reserve(n);
  const bytes = w.bytes();
  for (let i = 0; i < n; i++) bytes[at + i] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
}

function hexDigit(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57; // '0'..'9', 'a'..'f'
}

export function decodeBigInt(r: ByteReader, negative: boolean): bigint {
  const at = r.offset;
  const n = r.count(1, 'bigint byte count');
  const bytes = r.view(n);
  let v: bigint;
  if (n <= 6) {
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 256 + bytes[i]!;
    v = BigInt(x);
  } else {
    let hex = '0x';
    for (let i = 0; i < n; i++) hex += HEX[bytes[i]!]!;
    try {
      v = BigInt(hex);
    } catch {
      return r.fail(`bigint of ${n} bytes is too large`, at);
    }
  }
  return negative ? -v : v;
}
