// Public value types of the shared arena.

/** A block of the arena as two numbers (rings carry exactly these). `offset` is the payload's byte offset in the SAB. */
export interface ArenaHandle {
  readonly offset: number;
  /** Bumped by every free of the block: a handle from before a release never matches again. */
  readonly generation: number;
}

export type TypedArrayCtor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

const TYPED_ARRAY_CTORS: ReadonlySet<unknown> = new Set<unknown>([
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
]);

export function isTypedArrayCtor(value: unknown): value is TypedArrayCtor {
  return TYPED_ARRAY_CTORS.has(value);
}

export interface ArenaStats {
  /** Sum of requested byte lengths of live blocks, all owners (a racy sum: see arena.ts). */
  liveBytes: number;
  liveBlocks: number;
  /** Bytes of the SAB published as usable (grows; equals maxBytes for a fixed buffer). */
  committedBytes: number;
  /** Largest byte length the SAB can reach, metadata included. */
  maxBytes: number;
  segmentBytes: number;
  /** Segments claimed from the shared pool by any owner (small segments and large runs). */
  segmentsInUse: number;
  /** Small segments owned by this thread's arena. */
  ownedSegments: number;
  /** Remote frees this thread could not place (should stay 0; non-zero means memory corruption or a bug). */
  droppedRemoteFrees: number;
}

export type OwnerState = 'unattached' | 'attached' | 'reclaimed';

export interface OwnerStats {
  /** Requested bytes of live blocks this owner allocated. */
  liveBytes: number;
  liveBlocks: number;
  state: OwnerState;
}

export interface ReclaimReport {
  /** Small segments of the dead owner now owned by the reclaiming thread. */
  segmentsAdopted: number;
  /** Free blocks in them, now in the reclaiming thread's free lists. */
  freeBlocksRecovered: number;
  /** Live (or in-flight remote-freed) blocks in them; free live ones with their handles. */
  liveBlocksAdopted: number;
  /** Segments the dead owner had claimed but not yet published, returned to the pool. */
  abandonedClaims: number;
  /** Large blocks the dead owner allocated that are still live (any thread's free returns them). */
  liveLargeBlocks: number;
  /** Blocks taken from the dead owner's remote-free stack. */
  remoteFreesDrained: number;
  /** What the stats still charge to the dead owner: blocks it allocated that nobody freed yet. */
  liveBytesAttributed: number;
  liveBlocksAttributed: number;
}
