/**
 * Record headers: the little-endian 32-bit words at the start of every record in a direct ring or a result
 * ring (job id, member id, origin, arena handle of a spilled record). One module for both sides, so no
 * offset is spelled out twice.
 *
 * | record            | words after the type                                  | then                         |
 * |-------------------|-------------------------------------------------------|------------------------------|
 * | REC_JOB (lane)    | id, 0, enqueue time (f64)                             | the encoded job              |
 * | REC_INVOKE        | id, member id                                         | the encoded command          |
 * | REC_NOTIFY_REPLY  | notify id, ok (1/0)                                   | the encoded answer or error  |
 * | REC_OK/REC_PROGRESS | id                                                  | the encoded value            |
 * | REC_ERR           | id, origin                                            | the encoded error            |
 * | REC_NOTIFY        | notify id, member id                                  | the encoded command          |
 * | REC_UNCAUGHT      | 0, origin                                             | the encoded error            |
 * | REC_SPILL         | inner type, arena offset, arena generation, length    | (the record is in the arena) |
 */

/** Writes `words` as little-endian u32 at `off`. */
export function writeWords(u8: Uint8Array, off: number, words: readonly number[]): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]! >>> 0;
    const at = off + i * 4;
    u8[at] = v & 0xff;
    u8[at + 1] = (v >>> 8) & 0xff;
    u8[at + 2] = (v >>> 16) & 0xff;
    u8[at + 3] = v >>> 24;
  }
}

/** Reads the little-endian u32 at `off`. */
export function readWord(u8: Uint8Array, off: number): number {
  return (u8[off]! | (u8[off + 1]! << 8) | (u8[off + 2]! << 16) | (u8[off + 3]! << 24)) >>> 0;
}

/** Reads the little-endian f64 at `off`. */
export function readF64(u8: Uint8Array, off: number): number {
  const dv = new DataView(u8.buffer, u8.byteOffset + off, 8);
  return dv.getFloat64(0, true);
}

/** Writes the little-endian f64 at `off`. */
export function writeF64(u8: Uint8Array, off: number, value: number): void {
  new DataView(u8.buffer, u8.byteOffset + off, 8).setFloat64(0, value, true);
}

/** Size of a spill record's body: inner type, arena offset, arena generation, length. */
export const SPILL_BYTES = 16;
/** Size of a lane job record's header: id, 0, enqueue time. */
export const LANE_JOB_HEAD = 16;
