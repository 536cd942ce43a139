// Layout of the shared arena: one SharedArrayBuffer per workgroup, created once by the main thread
// (`createArenaBuffer`) and attached by every thread (`readArenaLayout`, then `new Arena(sab, owner)`).
//
// ┌──────────────── arena SAB ─────────────────────────────────────────────────────────────────────┐
// │ header (256 B) │ owner rows (maxOwners × 128 B) │ segment table (maxSegments × 8 B) │ pad │ data │
// └────────────────────────────────────────────────────────────────────────────────────────────────┘
//  TABLE = 256 + 128·maxOwners; DATA_START = TABLE + 8·maxSegments rounded up to 4096; segment s
//  spans [DATA_START + s·segmentBytes, +segmentBytes). maxSegments is the most that fit in maxBytes.
//  The buffer's byte length grows (growable SAB) from DATA_START + initial segments up to
//  TOTAL_BYTES = DATA_START + maxSegments·segmentBytes; without growable SABs it is TOTAL_BYTES from
//  the start (pages are committed by the OS when first touched).
//
// Every shared word is an Int32 (tear-free plain and Atomics access). The metadata
// (everything below DATA_START) never moves, so each thread reads it through one fixed view.
//
// | byte offset                  | width | field            | writer                        | reader              | op                         |
// |------------------------------|-------|------------------|-------------------------------|---------------------|----------------------------|
// | 0                            | 4     | MAGIC 'IWAR'     | createArenaBuffer (once)      | readArenaLayout     | plain (before sharing)     |
// | 4                            | 4     | VERSION          | createArenaBuffer (once)      | readArenaLayout     | plain (before sharing)     |
// | 8                            | 4     | SEGMENT_BYTES    | createArenaBuffer (once)      | every thread        | plain (immutable)          |
// | 12                           | 4     | MAX_SEGMENTS     | createArenaBuffer (once)      | every thread        | plain (immutable)          |
// | 16                           | 4     | MAX_OWNERS       | createArenaBuffer (once)      | every thread        | plain (immutable)          |
// | 20                           | 4     | DATA_START       | createArenaBuffer (once)      | every thread        | plain (immutable)          |
// | 24                           | 4     | FLAGS 1=growable | createArenaBuffer (once)      | every thread        | plain (immutable)          |
// | 28                           | 4     | TOTAL_BYTES / 16 | createArenaBuffer (once)      | every thread        | plain (immutable)          |
// | 128 (own 128 B line)         | 4     | COMMITTED / 16   | any thread after `sab.grow`   | every thread        | CAS-max / Atomics.load     |
// | 256 + 128·k + 0              | 4     | k.REMOTE_HEAD    | freers of k's blocks (push),  | owner k, and main   | CAS push / Atomics.exchange|
// |                              |       |                  | owner k (take all)            | after reclaim       | (take-all: no ABA)         |
// | 256 + 128·k + 4              | 4     | k.LIVE_BYTES u32 | allocator k (+), any freer (−)| stats()             | Atomics.add / Atomics.sub  |
// | 256 + 128·k + 8              | 4     | k.LIVE_BLOCKS    | allocator k (+), any freer (−)| stats()             | Atomics.add / Atomics.sub  |
// | 256 + 128·k + 12             | 4     | k.STATE          | Arena ctor (attach), reclaim  | Arena ctor, main    | CAS / Atomics.store        |
// | 256 + 128·k + 16             | 4     | k.DRAINING       | arena k while it recycles a   | reclaimOwner(k)     | Atomics.store /            |
// |                              |       |                  | taken stack (rest of the list)|                     | Atomics.exchange           |
// | TABLE + 8·s + 0              | 4     | s.ENTRY          | claimers (CAS 0→CLAIM), owner | any freer/viewer,   | CAS / Atomics.store /      |
// |                              |       |                  | (publish, release), reclaim   | claimers, reclaim   | Atomics.load               |
// | TABLE + 8·s + 4              | 4     | s.CARVED         | segment owner                 | reclaim (main)      | Atomics.store / load       |
// | DATA_START + …               |       | blocks           | see block.ts                  |                     |                            |
//
// Owner rows are 128 bytes apart so one owner's traffic does not false-share with another's (the gain
// is measured by the ring benchmark, not by an arena benchmark). Within a row, the stats words and
// REMOTE_HEAD are touched by the same threads: the owner, and whoever frees that owner's blocks.

import { invalidOption } from './errors.js';

export const ARENA_MAGIC = 0x49574152; // 'IWAR'
export const ARENA_VERSION = 1;

// Header words (Int32 index = byte offset / 4).
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_SEGMENT_BYTES = 2;
export const H_MAX_SEGMENTS = 3;
export const H_MAX_OWNERS = 4;
export const H_DATA_START = 5;
export const H_FLAGS = 6;
export const H_TOTAL_16 = 7;
export const H_COMMITTED_16 = 128 / 4;
export const HEADER_BYTES = 256;

export const FLAG_GROWABLE = 1;

// Owner rows.
export const OWNER_ROW_BYTES = 128;
export const OWNER_ROW_WORDS = OWNER_ROW_BYTES / 4;
export const ROW_REMOTE_HEAD = 0;
export const ROW_LIVE_BYTES = 1;
export const ROW_LIVE_BLOCKS = 2;
export const ROW_STATE = 3;
/** The not-yet-recycled rest of a remote-free list this owner took, so a death mid-drain loses at most one block. */
export const ROW_DRAINING = 4;

/** Owner row STATE values. */
export const OWNER_UNATTACHED = 0;
export const OWNER_ATTACHED = 1;
export const OWNER_RECLAIMED = 2;

// Segment table rows.
export const SEG_ROW_BYTES = 8;
export const SEG_ENTRY = 0;
export const SEG_CARVED = 1;

export const DATA_ALIGN = 4096;
/** Largest arena: block links and COMMITTED are stored in 64- and 16-byte units in Int32 words; V8 caps SABs at 4 GiB. */
export const MAX_ARENA_BYTES = 2 ** 32;
export const MIN_SEGMENT_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 2 ** 26;
export const MAX_OWNER_SLOTS = 0xffff;

export const DEFAULT_SEGMENT_BYTES = 2 ** 20;
export const DEFAULT_MAX_BYTES = 2 ** 30;
export const DEFAULT_MAX_OWNERS = 256;
export const DEFAULT_INITIAL_SEGMENTS = 4;

export interface ArenaOptions {
  /** Bytes committed at creation (rounded up to whole segments). Default: header + 4 segments. */
  initialBytes?: number;
  /** Upper bound of the SharedArrayBuffer's byte length, metadata included. Default 1 GiB, at most 4 GiB. */
  maxBytes?: number;
  /** Segment size, a power of two in [4 KiB, 64 MiB]. Default 1 MiB (smaller below 32 MiB of maxBytes: 32 segments fit). */
  segmentBytes?: number;
  /** Owner slots: 0 = main thread, 1..maxOwners-1 = workers. Default 256. */
  maxOwners?: number;
  /** Use a growable SharedArrayBuffer when the platform has one (default true). `false` forces the fixed fallback. */
  growable?: boolean;
}

/** Immutable geometry of an arena, read from its header. */
export interface ArenaLayout {
  readonly segmentBytes: number;
  readonly maxSegments: number;
  readonly maxOwners: number;
  readonly dataStart: number;
  readonly totalBytes: number;
  readonly growable: boolean;
  /** Int32 index of the first segment-table word. */
  readonly tableWord: number;
  /** Smallest block size class (bytes) and the number of small classes (64 B … segmentBytes/2). */
  readonly smallClasses: number;
}

export const MIN_BLOCK_BYTES = 64;
const MIN_BLOCK_SHIFT = 6;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function checkInteger(name: string, value: unknown, min: number, max: number, extra = ''): number {
  if (typeof value !== 'number') throw invalidOption(TypeError, name, `a number${extra}`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(RangeError, name, `an integer in [${min}, ${max}]${extra}`, value);
  }
  return value;
}

function tableStart(): number {
  return HEADER_BYTES;
}

function computeGeometry(maxBytes: number, segmentBytes: number, maxOwners: number) {
  const tableByte = tableStart() + maxOwners * OWNER_ROW_BYTES;
  let maxSegments = Math.floor((maxBytes - tableByte) / (segmentBytes + SEG_ROW_BYTES));
  let dataStart = alignUp(tableByte + maxSegments * SEG_ROW_BYTES, DATA_ALIGN);
  while (maxSegments > 0 && dataStart + maxSegments * segmentBytes > maxBytes) {
    maxSegments--;
    dataStart = alignUp(tableByte + maxSegments * SEG_ROW_BYTES, DATA_ALIGN);
  }
  return { tableByte, maxSegments, dataStart, totalBytes: dataStart + maxSegments * segmentBytes };
}

/** 1 MiB, or smaller for small arenas so that at least 32 segments fit (never below 4 KiB). */
export function defaultSegmentBytes(maxBytes: number): number {
  let seg = DEFAULT_SEGMENT_BYTES;
  while (seg > MIN_SEGMENT_BYTES && seg * 32 > maxBytes) seg /= 2;
  return seg;
}

/** True when `new SharedArrayBuffer(n, { maxByteLength })` yields a growable buffer (Node 20, Chromium 111+, Safari 16.4+). */
export function growableSharedMemorySupported(): boolean {
  try {
    const probe = new SharedArrayBuffer(8, { maxByteLength: 16 });
    return probe.growable === true && typeof probe.grow === 'function';
  } catch {
    return false;
  }
}

/**
 * Creates the arena's SharedArrayBuffer and writes its header. Called once, on the main thread, before
 * the buffer is shared; the header words are immutable afterwards (plain reads are safe everywhere).
 */
export function createArenaBuffer(opts: ArenaOptions = {}): SharedArrayBuffer {
  if (typeof opts !== 'object' || opts === null) throw invalidOption(TypeError, 'options', 'an object', opts);
  const maxOwners = checkInteger('maxOwners', opts.maxOwners ?? DEFAULT_MAX_OWNERS, 1, MAX_OWNER_SLOTS);
  const maxBytes = checkInteger('maxBytes', opts.maxBytes ?? DEFAULT_MAX_BYTES, 1, MAX_ARENA_BYTES);
  const segmentBytes = checkInteger('segmentBytes', opts.segmentBytes ?? defaultSegmentBytes(maxBytes), MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES, ', a power of two');
  if (!isPowerOfTwo(segmentBytes)) throw invalidOption(RangeError, 'segmentBytes', 'a power of two', segmentBytes);
  const geo = computeGeometry(maxBytes, segmentBytes, maxOwners);
  if (geo.maxSegments < 1) {
    const needed = alignUp(geo.tableByte + SEG_ROW_BYTES, DATA_ALIGN) + segmentBytes;
    throw invalidOption(RangeError, 'maxBytes', `at least ${needed} (metadata plus one ${segmentBytes}-byte segment)`, maxBytes);
  }
  const initialBytes = checkInteger('initialBytes', opts.initialBytes ?? geo.dataStart + DEFAULT_INITIAL_SEGMENTS * segmentBytes, 0, MAX_ARENA_BYTES);
  const initialSegments = Math.min(geo.maxSegments, Math.max(0, Math.ceil((initialBytes - geo.dataStart) / segmentBytes)));
  const initialLength = geo.dataStart + initialSegments * segmentBytes;

  const wantGrowable = opts.growable ?? true;
  let sab: SharedArrayBuffer | undefined;
  if (wantGrowable && growableSharedMemorySupported()) {
    sab = new SharedArrayBuffer(initialLength, { maxByteLength: geo.totalBytes });
  }
  // Fallback: one fixed buffer of the full size. Linux commits its pages lazily, so an untouched
  // reservation costs no RSS; RSS is the high-water mark of what was touched.
  const growable = sab !== undefined;
  sab ??= new SharedArrayBuffer(geo.totalBytes);

  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  h[H_MAGIC] = ARENA_MAGIC;
  h[H_VERSION] = ARENA_VERSION;
  h[H_SEGMENT_BYTES] = segmentBytes;
  h[H_MAX_SEGMENTS] = geo.maxSegments;
  h[H_MAX_OWNERS] = maxOwners;
  h[H_DATA_START] = geo.dataStart;
  h[H_FLAGS] = growable ? FLAG_GROWABLE : 0;
  h[H_TOTAL_16] = geo.totalBytes / 16;
  // Published before the buffer is shared (postMessage/workerData orders it for the receivers).
  Atomics.store(h, H_COMMITTED_16, (growable ? initialLength : geo.totalBytes) / 16);
  return sab;
}

/** Validates the header of an arena buffer and returns its geometry. */
export function readArenaLayout(sab: SharedArrayBuffer): ArenaLayout {
  if (!(sab instanceof SharedArrayBuffer)) throw invalidOption(TypeError, 'sab', 'a SharedArrayBuffer from createArenaBuffer()', sab);
  if (sab.byteLength < HEADER_BYTES) throw invalidOption(TypeError, 'sab', 'an arena buffer (too small for the header)', sab);
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  if (h[H_MAGIC] !== ARENA_MAGIC) throw invalidOption(TypeError, 'sab', 'a buffer made by createArenaBuffer() (bad magic)', sab);
  if (h[H_VERSION] !== ARENA_VERSION) {
    throw invalidOption(TypeError, 'sab', `an arena buffer of layout version ${ARENA_VERSION}`, `version ${String(h[H_VERSION])}`);
  }
  const segmentBytes = h[H_SEGMENT_BYTES] ?? 0;
  return {
    segmentBytes,
    maxSegments: h[H_MAX_SEGMENTS] ?? 0,
    maxOwners: h[H_MAX_OWNERS] ?? 0,
    dataStart: h[H_DATA_START] ?? 0,
    totalBytes: (h[H_TOTAL_16] ?? 0) * 16,
    growable: ((h[H_FLAGS] ?? 0) & FLAG_GROWABLE) !== 0,
    tableWord: (tableStart() + (h[H_MAX_OWNERS] ?? 0) * OWNER_ROW_BYTES) / 4,
    smallClasses: 31 - Math.clz32(segmentBytes) - MIN_BLOCK_SHIFT,
  };
}

/** Int32 index of word `field` of owner `slot`'s row. */
export function ownerWord(slot: number, field: number): number {
  return (HEADER_BYTES + slot * OWNER_ROW_BYTES) / 4 + field;
}

/** Size class index for a block of `bytes` total bytes (header included): 0 → 64 B, 1 → 128 B, … */
export function sizeClassFor(bytes: number): number {
  return bytes <= MIN_BLOCK_BYTES ? 0 : 32 - Math.clz32(bytes - 1) - MIN_BLOCK_SHIFT;
}

export function classBytes(cls: number): number {
  return MIN_BLOCK_BYTES << cls; // cls <= 20 (segments <= 64 MiB)
}
