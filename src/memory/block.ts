// Block headers and segment-table entries: the encodings every thread agrees on.
//
// Block header: 16 bytes at the block's first byte (blocks are 64-byte aligned, so the header is too).
// The payload starts `delta` bytes after the header: 16 (payload 16-byte aligned) or 64 (`align` 32/64).
// A handle is { offset: payload byte offset, generation }.
//
// | word | field                                   | writer                           | reader                        | op                           |
// |------|-----------------------------------------|----------------------------------|-------------------------------|------------------------------|
// | 0    | SIZE: block bytes / 64                  | segment owner (carve), large     | reclaim walk                  | plain (before publication)   |
// |      |                                         | allocator                        |                               |                              |
// | 1    | META: alloc owner (bits 0-15),          | allocator, before handing out    | free/view (after the handle   | plain (ordered by the handle |
// |      | delta / 16 (bits 16-23)                 |                                  | arrived), leak reporter       | hand-off)                    |
// | 2    | STAMP: generation << 2 | state          | allocator (FREE→LIVE), freer     | everyone                      | Atomics.store / CAS / load   |
// |      |                                         | (CAS LIVE→FREE or LIVE→REMOTE),  |                               |                              |
// |      |                                         | owner drain (REMOTE→FREE)        |                               |                              |
// | 3    | LEN: user byte length (u32) while LIVE; | allocator (LEN); remote freer    | view/free (LEN); owner drain  | plain; LINK ordered by the   |
// |      | LINK: next block / 64 while REMOTE      | (LINK, before its CAS push)      | (LINK, after Atomics.exchange)| push CAS / take exchange     |
//
// States: FREE (in the owner's local free list, or uncarved/unused), LIVE (handed out), REMOTE
// (freed by a non-owner, on the way to or on the owner's remote-free stack). The generation is bumped
// by every free (LIVE→FREE and LIVE→REMOTE), so a handle taken before a free never matches again
// (modulo 2^30 wrap-around). Exactly one CAS wins a free: a second free of the same handle fails.
//
// Segment-table ENTRY (Int32): kind (bits 24-26) | size class (bits 16-21) | owner slot (bits 0-15).
//   0            FREE     unclaimed; any thread may CAS it to CLAIM
//   CLAIM|o      claimed by o, not yet published (a thread that dies here leaves it for reclaimOwner)
//   SMALL|c|o    size-class-c segment owned by o; o carves and recycles its blocks
//   LARGE|o      first segment of a large block allocated by o (the block header is at its base)
//   CONT|o       later segment of that large block
// Entries change only by: CAS 0→CLAIM (claimers), store CLAIM→SMALL/LARGE/CONT or CLAIM→0 (the
// claimer), CAS SMALL|c|o→0 (owner o releasing an empty segment), store LARGE/CONT→0 (whoever won
// the large block's free CAS), CAS SMALL|c|dead→SMALL|c|main and CLAIM|dead→0 (reclaimOwner).

export const HDR_SIZE = 0;
export const HDR_META = 1;
export const HDR_STAMP = 2;
export const HDR_LEN = 3; // doubles as the remote-free LINK
export const BLOCK_HEADER_BYTES = 16;
export const BLOCK_UNIT = 64;

export const STATE_FREE = 0;
export const STATE_LIVE = 1;
export const STATE_REMOTE = 2;
export const GEN_MASK = 0x3fffffff;

export function stamp(generation: number, state: number): number {
  return ((generation & GEN_MASK) << 2) | state;
}
export function stampGeneration(s: number): number {
  return (s >>> 2) & GEN_MASK;
}
export function stampState(s: number): number {
  return s & 3;
}
export function nextGeneration(generation: number): number {
  return (generation + 1) & GEN_MASK;
}

export function meta(allocOwner: number, delta: number): number {
  return allocOwner | ((delta / 16) << 16);
}
export function metaOwner(m: number): number {
  return m & 0xffff;
}
export function metaDelta(m: number): number {
  return ((m >>> 16) & 0xff) * 16;
}

export const KIND_FREE = 0;
export const KIND_CLAIM = 1;
export const KIND_SMALL = 2;
export const KIND_LARGE = 3;
export const KIND_CONT = 4;

export function entry(kind: number, cls: number, owner: number): number {
  return (kind << 24) | (cls << 16) | owner;
}
export function entryKind(e: number): number {
  return (e >>> 24) & 7;
}
export function entryClass(e: number): number {
  return (e >>> 16) & 0x3f;
}
export function entryOwner(e: number): number {
  return e & 0xffff;
}
