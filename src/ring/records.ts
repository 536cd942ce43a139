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

/** Byte offsets inside a record (from the record's start), by field, for every record type above. */
export const R_ID = 0; // job/call id, notify id (REC_NOTIFY, REC_NOTIFY_REPLY), inner type (REC_SPILL)
export const R_SECOND = 4; // member id (REC_INVOKE, REC_NOTIFY), origin (REC_ERR, REC_UNCAUGHT), ok flag (REC_NOTIFY_REPLY), arena offset (REC_SPILL)
export const R_TIME = 8; // enqueue time (lane REC_JOB)
export const R_SPILL_GENERATION = 8;
export const R_SPILL_LENGTH = 12;

/** Where the encoded value starts, by record type. */
export const BODY_ONE_WORD = 4; // REC_OK, REC_PROGRESS
export const BODY_TWO_WORDS = 8; // REC_ERR, REC_INVOKE, REC_NOTIFY, REC_NOTIFY_REPLY, REC_UNCAUGHT
export const LANE_JOB_HEAD = 16; // lane REC_JOB: id, 0, enqueue time

/** Size of a spill record's body: inner type, arena offset, arena generation, length. */
export const SPILL_BYTES = 16;
