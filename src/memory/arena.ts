// The shared arena: typed arrays on one SharedArrayBuffer for the main thread and every worker, with
// explicit lifetimes (alloc/free, allocArray/release) and generation-checked handles.
//
// Contract
// - One `Arena` per thread and owner slot (0 = main, 1..maxOwners-1 = workers), attached to the buffer
//   from `createArenaBuffer`. Any thread allocates; any thread frees any block.
// - Lock-free, and no lock anywhere that a dead thread could hold. Small blocks (header + payload up to
//   segmentBytes/2) come from size-class segments the allocating thread owns, through free lists in its
//   own JS heap (no atomics on that path but the STAMP store and two stats adds). Large blocks take a
//   run of whole segments straight from the global pool (segments.ts) and go back to it on free.
// - A free by the owner is local. A free by another thread CASes the block LIVE→REMOTE and CAS-pushes
//   it on the owner's remote-free stack (LINK in the header); the owner takes the whole stack with one
//   `Atomics.exchange` on its next allocation or `collect()` (push + take-all: no ABA).
// - Every free bumps the block's generation with one CAS on STAMP, so exactly one of two racing frees
//   wins and the loser gets a clear double-free error; stale handles fail the generation check.
// - `reclaimOwner(slot)` (main, after that worker exited): adopts the dead owner's small segments by
//   walking their carved headers (FREE → main's free lists, LIVE/REMOTE stay counted), returns its
//   half-claimed segments, and drains its remote-free stack now and on every later `collect()`.
// - What allocates on the JS heap: the returned handle object and typed array, free-list array growth,
//   a record per claimed segment, the WeakMap entry (view → handle), the leak reporter's entry.
//
// Staleness of `stats()`: each per-owner counter is exact at the moment it is read (Atomics.load), but
// the totals are a sum over owners read one after another, so they can be late by the allocations and
// frees in flight on other threads — in either direction, by at most those operations. Counters are
// charged to the allocating owner (META) and never move, also across reclaimOwner. A thread killed
// between a block's state change and its stats update leaves the counter off by that one block.
//
// Deaths (terminate() stops JS at function entries and loop back-edges, so assume "between any two
// atomics") cost at most: the blocks the dead thread held and had not handed to
// anyone, one REMOTE block it was recycling or pushing (a drain records the rest of its list in
// DRAINING for reclaimOwner), the rest of a large run it was freeing. Never a wedged lock, never a
// corrupt or duplicated free list: a block reaches a free list only through the one CAS that freed it.

import {
  type ArenaLayout,
  OWNER_ATTACHED,
  OWNER_RECLAIMED,
  OWNER_UNATTACHED,
  ROW_DRAINING,
  ROW_LIVE_BLOCKS,
  ROW_LIVE_BYTES,
  ROW_REMOTE_HEAD,
  ROW_STATE,
  classBytes,
  ownerWord,
  readArenaLayout,
  sizeClassFor,
} from './layout.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_UNIT,
  HDR_LEN,
  HDR_META,
  HDR_SIZE,
  HDR_STAMP,
  KIND_CONT,
  KIND_LARGE,
  KIND_SMALL,
  STATE_FREE,
  STATE_LIVE,
  STATE_REMOTE,
  entry,
  entryClass,
  entryKind,
  entryOwner,
  meta,
  metaDelta,
  metaOwner,
  nextGeneration,
  stamp,
  stampGeneration,
  stampState,
} from './block.js';
import { SegmentTable } from './segments.js';
import { OwnerHeap } from './heap.js';
import { WordView } from './words.js';
import { LeakReporter, type LeakListener } from './leak-reporter.js';
import {
  ArenaDoubleFreeError,
  ArenaExhaustedError,
  ArenaInvalidHandleError,
  ArenaOwnerError,
  ArenaUseAfterReleaseError,
  invalidOption,
} from './errors.js';
import { type ArenaHandle, type ArenaStats, type OwnerStats, type ReclaimReport, type TypedArrayCtor, isTypedArrayCtor } from './types.js';

export interface ArenaAttachOptions {
  /** Called when a typed array from `allocArray` was garbage collected while its block was still live. */
  onLeak?: LeakListener;
  /** Record the allocation stack of every tracked array for `onLeak` (slow; for debugging). */
  captureStacks?: boolean;
}

const NOT_ARENA = -1;
const NOT_LIVE = -2;
const NOT_START = -3;
const MAX_REQUEST = 2 ** 32 - 1;
const OWNER_STATE_NAMES = ['unattached', 'attached', 'reclaimed'] as const;
// Engines without explicit resource management still get a callable key (what TS's `using` lowering looks up).
const DISPOSE: typeof Symbol.dispose = Symbol.dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

export class Arena {
  readonly sab: SharedArrayBuffer;
  readonly owner: number;
  readonly layout: ArenaLayout;
  /** Header, owner rows and segment table: a fixed view of the metadata (never grows). */
  readonly #meta: Int32Array;
  /** Block headers: the committed buffer, re-viewed after growth. */
  readonly #words: WordView;
  readonly #table: SegmentTable;
  readonly #heap: OwnerHeap;
  readonly #headWord: number;
  readonly #drainingWord: number;
  readonly #maxSmallNeed: number;
  readonly #handles = new WeakMap<ArrayBufferView, ArenaHandle>();
  readonly #leaks: LeakReporter | undefined;
  /** Dead slots this arena reclaimed: their stacks may still receive stale remote frees. */
  readonly #adopted = new Set<number>();
  /** Side results of #locate (avoid allocating a record per free). */
  #locEntry = 0;
  #locSegment = 0;
  #dropped = 0;

  constructor(sab: SharedArrayBuffer, owner: number, options: ArenaAttachOptions = {}) {
    this.layout = readArenaLayout(sab);
    if (typeof owner !== 'number' || !Number.isInteger(owner) || owner < 0 || owner >= this.layout.maxOwners) {
      throw invalidOption(RangeError, 'owner', `an owner slot in [0, ${this.layout.maxOwners - 1}]`, owner);
    }
    this.sab = sab;
    this.owner = owner;
    this.#meta = new Int32Array(sab, 0, this.layout.dataStart / 4);
    this.#words = new WordView(sab);
    this.#table = new SegmentTable(sab, this.#meta, this.layout);
    this.#heap = new OwnerHeap(this.#words, this.#table, this.layout, owner);
    this.#headWord = ownerWord(owner, ROW_REMOTE_HEAD);
    this.#drainingWord = ownerWord(owner, ROW_DRAINING);
    this.#maxSmallNeed = this.layout.segmentBytes / 2;
    const stateWord = ownerWord(owner, ROW_STATE);
    if (
      Atomics.compareExchange(this.#meta, stateWord, OWNER_UNATTACHED, OWNER_ATTACHED) !== OWNER_UNATTACHED &&
      Atomics.compareExchange(this.#meta, stateWord, OWNER_RECLAIMED, OWNER_ATTACHED) !== OWNER_RECLAIMED
    ) {
      throw new ArenaOwnerError(
        `arena owner slot ${owner} is already attached; each thread needs its own slot, and a slot is ` +
          `reused only after the main thread called reclaimOwner(${owner}) for the thread that had it`,
      );
    }
    const onLeak = options.onLeak;
    this.#leaks =
      onLeak === undefined ? undefined : new LeakReporter(onLeak, (o, g) => this.#isLive(o, g), options.captureStacks === true);
  }

  /** Allocates `byteLength` bytes (payload aligned to `align`: a power of two up to 64, default 16). */
  alloc(byteLength: number, align = 16): ArenaHandle {
    if (typeof byteLength !== 'number') throw invalidOption(TypeError, 'byteLength', 'a number', byteLength);
    if (!Number.isInteger(byteLength) || byteLength < 0) throw invalidOption(RangeError, 'byteLength', 'an integer >= 0', byteLength);
    if (typeof align !== 'number' || !(align === 1 || align === 2 || align === 4 || align === 8 || align === 16 || align === 32 || align === 64)) {
      throw invalidOption(RangeError, 'align', 'a power of two in [1, 64]', align);
    }
    if (byteLength > MAX_REQUEST || byteLength > this.layout.totalBytes) this.#exhausted(byteLength);
    const delta = align > 16 ? 64 : 16;
    const need = delta + Math.max(byteLength, 1);
    if (Atomics.load(this.#meta, this.#headWord) !== 0) this.#drain(this.owner);

    let blockStart: number;
    if (need <= this.#maxSmallNeed) {
      const cls = sizeClassFor(need);
      blockStart = this.#heap.allocSmall(cls);
      if (blockStart < 0) {
        this.#makeRoom();
        blockStart = this.#heap.allocSmall(cls);
        if (blockStart < 0) this.#exhausted(byteLength);
      }
    } else {
      blockStart = this.#allocLarge(need, byteLength);
    }

    const i32 = this.#words.covering(blockStart + BLOCK_HEADER_BYTES);
    const hw = blockStart / 4;
    const generation = stampGeneration(Atomics.load(i32, hw + HDR_STAMP)); // FREE, generation bumped by its last free
    i32[hw + HDR_META] = meta(this.owner, delta);
    i32[hw + HDR_LEN] = byteLength; // u32 in an Int32 slot (wraps above 2^31-1; read back with >>> 0)
    // Publication: the block is LIVE from here. Whoever receives the handle (through a ring or
    // postMessage, which order this store) may view and free it.
    Atomics.store(i32, hw + HDR_STAMP, stamp(generation, STATE_LIVE));
    Atomics.add(this.#meta, ownerWord(this.owner, ROW_LIVE_BYTES), byteLength);
    Atomics.add(this.#meta, ownerWord(this.owner, ROW_LIVE_BLOCKS), 1);
    return { offset: blockStart + delta, generation };
  }

  /** Frees a block, from any thread. A second free of the same handle throws `ArenaDoubleFreeError`. */
  free(handle: ArenaHandle): void {
    this.#free(handle, 'free');
  }

  /** A typed array of `length` elements on the arena buffer (`.buffer === sab`); release it with `release()`. */
  allocArray<T extends TypedArrayCtor>(ctor: T, length: number): InstanceType<T> {
    if (!isTypedArrayCtor(ctor)) throw invalidOption(TypeError, 'ctor', 'a typed-array constructor (Float64Array, Uint8Array, …)', ctor);
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
      throw invalidOption(RangeError, 'length', 'an integer >= 0', length);
    }
    const bpe = ctor.BYTES_PER_ELEMENT;
    if (length * bpe > MAX_REQUEST) this.#exhausted(length * bpe);
    const handle = this.alloc(length * bpe, Math.max(16, bpe));
    // Zeroed, as `new Float64Array(n)` is: a reused block still holds what its last owner wrote.
    new Uint8Array(this.sab, handle.offset, length * bpe).fill(0);
    const array = this.#remember(this.#construct(ctor, handle.offset, length), handle);
    this.#leaks?.track(array, handle.offset, handle.generation, this.owner);
    return array as InstanceType<T>;
  }

  /** Frees the block behind an array from `allocArray`/`arrayOf`/`viewOf` (or any view at a block's exact start). */
  release(array: ArrayBufferView): void {
    if (!ArrayBuffer.isView(array)) throw invalidOption(TypeError, 'array', 'a typed array from this arena', array);
    const handle = this.#handles.get(array) ?? this.#foreignHandle(array, 'release');
    this.#free(handle, 'release');
    this.#leaks?.untrack(array);
  }

  /** The handle behind a view, if the view starts exactly at a live block of this arena (or came from it). */
  handleOf(view: ArrayBufferView): ArenaHandle | undefined {
    if (!ArrayBuffer.isView(view)) return undefined;
    const known = this.#handles.get(view);
    if (known !== undefined) return known;
    if (view.buffer !== this.sab) return undefined;
    const blockStart = this.#locate(view.byteOffset);
    if (blockStart < 0) return undefined;
    const s = Atomics.load(this.#words.i32, blockStart / 4 + HDR_STAMP);
    if (stampState(s) !== STATE_LIVE) return undefined;
    const handle: ArenaHandle = { offset: view.byteOffset, generation: stampGeneration(s) };
    this.#handles.set(view, handle);
    return handle;
  }

  /** True while `handle` names a live block under its generation (no allocation, never throws). */
  isLive(handle: ArenaHandle): boolean {
    return this.#isLive(handle.offset, handle.generation);
  }

  /** Bytes of a live block (default: its whole requested length). Throws `ArenaUseAfterReleaseError` on a stale handle. */
  viewOf(handle: ArenaHandle, byteLength?: number): Uint8Array {
    const length = this.#checkedLength(handle, byteLength, 1);
    return this.#remember(new Uint8Array(this.sab, handle.offset, length), handle);
  }

  /** A typed array over a live block received as a handle (e.g. from a ring): generation-checked, releasable. */
  arrayOf<T extends TypedArrayCtor>(handle: ArenaHandle, ctor: T, length?: number): InstanceType<T> {
    if (!isTypedArrayCtor(ctor)) throw invalidOption(TypeError, 'ctor', 'a typed-array constructor (Float64Array, Uint8Array, …)', ctor);
    const bpe = ctor.BYTES_PER_ELEMENT;
    const bytes = this.#checkedLength(handle, length === undefined ? undefined : length * bpe, bpe);
    return this.#remember(this.#construct(ctor, handle.offset, Math.floor(bytes / bpe)), handle) as InstanceType<T>;
  }

  /** `using`-friendly allocation: `using lease = arena.lease(Float64Array, n); lease.array[0] = 1;` */
  lease<T extends TypedArrayCtor>(ctor: T, length: number): ArenaLease<InstanceType<T>> {
    const array = this.allocArray(ctor, length);
    const handle = this.#handles.get(array) as ArenaHandle;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(array);
    };
    return { array, handle, release, [DISPOSE]: release };
  }

  /** Recycles blocks other threads freed for this owner (and for slots it reclaimed). Returns how many. */
  collect(): number {
    let n = this.#drain(this.owner);
    for (const slot of this.#adopted) {
      if (Atomics.load(this.#meta, ownerWord(slot, ROW_STATE)) === OWNER_ATTACHED) {
        this.#adopted.delete(slot); // a new thread owns the slot now and forwards what it drains
        continue;
      }
      n += this.#drain(slot);
    }
    return n;
  }

  /** Returns this owner's fully free segments (including its per-class caches) to the shared pool. */
  trim(): number {
    this.collect();
    return this.#heap.trim();
  }

  stats(): ArenaStats {
    let liveBytes = 0;
    let liveBlocks = 0;
    for (let slot = 0; slot < this.layout.maxOwners; slot++) {
      liveBytes += Atomics.load(this.#meta, ownerWord(slot, ROW_LIVE_BYTES)) >>> 0;
      liveBlocks += Atomics.load(this.#meta, ownerWord(slot, ROW_LIVE_BLOCKS)) >>> 0;
    }
    return {
      liveBytes,
      liveBlocks,
      committedBytes: this.#table.committedBytes(),
      maxBytes: this.layout.totalBytes,
      segmentBytes: this.layout.segmentBytes,
      segmentsInUse: this.#table.segmentsInUse(),
      ownedSegments: this.#heap.segmentCount,
      droppedRemoteFrees: this.#dropped,
    };
  }

  /** Live bytes and blocks allocated by `slot` (charged to the allocator, also after reclaimOwner). */
  ownerStats(slot: number): OwnerStats {
    this.#checkSlot(slot, 'slot');
    const state = Atomics.load(this.#meta, ownerWord(slot, ROW_STATE));
    return {
      liveBytes: Atomics.load(this.#meta, ownerWord(slot, ROW_LIVE_BYTES)) >>> 0,
      liveBlocks: Atomics.load(this.#meta, ownerWord(slot, ROW_LIVE_BLOCKS)) >>> 0,
      state: OWNER_STATE_NAMES[state] ?? 'unattached',
    };
  }

  /**
   * Adopts everything owner `slot` held after its thread died or exited: call it on the main thread once
   * that worker's `exit` event fired, before the slot is given to a new worker. Live blocks stay live
   * (free them with their handles); free blocks become this thread's.
   */
  reclaimOwner(slot: number): ReclaimReport {
    this.#checkSlot(slot, 'slot');
    if (slot === this.owner) throw new ArenaOwnerError(`reclaimOwner(${slot}): an arena cannot reclaim its own slot`);
    const meta = this.#meta;
    const report = { ...this.#heap.adoptDeadOwner(slot), remoteFreesDrained: 0 };
    this.#adopted.add(slot);
    // The rest of a list the dead owner was recycling when it died, then its stack.
    const orphan = Atomics.exchange(meta, ownerWord(slot, ROW_DRAINING), 0);
    if (orphan !== 0) {
      Atomics.store(meta, this.#drainingWord, orphan);
      report.remoteFreesDrained += this.#recycleList(orphan);
    }
    report.remoteFreesDrained += this.#drain(slot);
    // Only now may a new thread attach to the slot (its constructor CASes RECLAIMED → ATTACHED).
    Atomics.store(meta, ownerWord(slot, ROW_STATE), OWNER_RECLAIMED);
    const attributed = this.ownerStats(slot);
    return { ...report, liveBytesAttributed: attributed.liveBytes, liveBlocksAttributed: attributed.liveBlocks };
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  #allocLarge(need: number, byteLength: number): number {
    const segmentBytes = this.layout.segmentBytes;
    const count = Math.ceil(need / segmentBytes);
    if (count > this.layout.maxSegments) this.#exhausted(byteLength);
    let first = this.#table.claimRun(count, this.owner);
    if (first < 0) {
      this.#makeRoom();
      first = this.#table.claimRun(count, this.owner);
      if (first < 0) this.#exhausted(byteLength);
    }
    const blockStart = this.#table.base(first);
    const hw = blockStart / 4;
    const i32 = this.#words.covering(blockStart + BLOCK_HEADER_BYTES);
    const old = Atomics.load(i32, hw + HDR_STAMP);
    i32[hw + HDR_SIZE] = (count * segmentBytes) / BLOCK_UNIT;
    Atomics.store(i32, hw + HDR_STAMP, stamp(nextGeneration(stampGeneration(old)), STATE_FREE));
    for (let k = count - 1; k >= 1; k--) this.#table.setEntry(first + k, entry(KIND_CONT, 0, this.owner));
    this.#table.setEntry(first, entry(KIND_LARGE, 0, this.owner)); // publishes the run
    return blockStart;
  }

  #free(handle: ArenaHandle, what: 'free' | 'release'): void {
    const { offset, generation } = this.#checkHandle(handle);
    const blockStart = this.#locate(offset);
    if (blockStart === NOT_ARENA) throw new ArenaInvalidHandleError(`expected an arena handle, got offset ${offset}`);
    if (blockStart < 0) throw new ArenaDoubleFreeError(what, offset, generation, 'its memory is no longer a live block');
    const i32 = this.#words.i32; // covers the block: #locate refreshed it
    const hw = blockStart / 4;
    const s = Atomics.load(i32, hw + HDR_STAMP);
    if (stampState(s) !== STATE_LIVE || stampGeneration(s) !== generation) {
      throw new ArenaDoubleFreeError(what, offset, generation, this.#staleDetail(s));
    }
    // Read while LIVE under this generation; the CAS below proves nobody freed it in between.
    const allocOwner = metaOwner(i32[hw + HDR_META] ?? 0);
    const length = (i32[hw + HDR_LEN] ?? 0) >>> 0;
    const e = this.#locEntry;
    const kind = entryKind(e);
    const segOwner = entryOwner(e);
    const local = kind === KIND_LARGE || segOwner === this.owner;
    const next = stamp(nextGeneration(generation), local ? STATE_FREE : STATE_REMOTE);
    if (Atomics.compareExchange(i32, hw + HDR_STAMP, s, next) !== s) {
      throw new ArenaDoubleFreeError(what, offset, generation, 'another thread released it at the same time');
    }
    if (allocOwner < this.layout.maxOwners) {
      Atomics.sub(this.#meta, ownerWord(allocOwner, ROW_LIVE_BYTES), length);
      Atomics.sub(this.#meta, ownerWord(allocOwner, ROW_LIVE_BLOCKS), 1);
    }
    if (kind === KIND_LARGE) {
      // We won the free: the run is ours alone until its entries are back to 0.
      const first = this.#locSegment;
      const count = ((i32[hw + HDR_SIZE] ?? 0) * BLOCK_UNIT) / this.layout.segmentBytes;
      for (let k = count - 1; k >= 1; k--) this.#table.setEntry(first + k, 0);
      this.#table.setEntry(first, 0);
    } else if (local) {
      const seg = this.#heap.segment(this.#locSegment);
      if (seg === undefined) throw new Error(`internal: segment ${this.#locSegment} is owned by slot ${this.owner} but unknown to it`);
      this.#heap.freeLocal(seg, blockStart);
    } else {
      this.#pushRemote(segOwner, blockStart);
    }
  }

  /** CAS-push of a REMOTE block on `slot`'s remote-free stack (LINK written before the CAS publishes it). */
  #pushRemote(slot: number, blockStart: number): void {
    const meta = this.#meta;
    const i32 = this.#words.i32; // covers the block: the caller located or recycled it
    const headWord = ownerWord(slot, ROW_REMOTE_HEAD);
    const node = blockStart / BLOCK_UNIT;
    for (;;) {
      const head = Atomics.load(meta, headWord);
      Atomics.store(i32, blockStart / 4 + HDR_LEN, head);
      if (Atomics.compareExchange(meta, headWord, head, node) === head) return;
    }
  }

  /** Takes `slot`'s whole remote-free stack (one exchange) and recycles or forwards every block. */
  #drain(slot: number): number {
    const node = Atomics.exchange(this.#meta, ownerWord(slot, ROW_REMOTE_HEAD), 0);
    if (node === 0) return 0;
    // Record the taken list in our DRAINING word straight away (no JS call in between, so no
    // interrupt point): if this thread dies while recycling, reclaimOwner finds the rest of the list.
    Atomics.store(this.#meta, this.#drainingWord, node);
    return this.#recycleList(node);
  }

  /** Recycles (our segments) or forwards (someone else's) every REMOTE block of a taken list. */
  #recycleList(first: number): number {
    let node = first;
    let n = 0;
    while (node !== 0) {
      const blockStart = node * BLOCK_UNIT;
      const hw = blockStart / 4;
      const i32 = this.#words.covering(blockStart + BLOCK_HEADER_BYTES);
      node = Atomics.load(i32, hw + HDR_LEN); // LINK, published by the pusher's CAS (or the exchange that took it)
      // Advance DRAINING before handling this block: a death from here on loses at most this one.
      Atomics.store(this.#meta, this.#drainingWord, node);
      n++;
      const segIndex = this.#table.indexOf(blockStart);
      const e = this.#table.entry(segIndex);
      if (entryKind(e) !== KIND_SMALL) {
        this.#dropped++;
        continue;
      }
      const segOwner = entryOwner(e);
      if (segOwner !== this.owner) {
        this.#pushRemote(segOwner, blockStart); // pushed to a stale owner (before a reclaim): forward
        continue;
      }
      const seg = this.#heap.segment(segIndex);
      const s = Atomics.load(i32, hw + HDR_STAMP);
      if (seg === undefined || stampState(s) !== STATE_REMOTE) {
        this.#dropped++;
        continue;
      }
      Atomics.store(i32, hw + HDR_STAMP, stamp(stampGeneration(s), STATE_FREE)); // REMOTE → FREE, same generation
      this.#heap.freeLocal(seg, blockStart);
    }
    return n;
  }

  /** Before reporting exhaustion: recycle what others freed for us and give our empty segments back. */
  #makeRoom(): void {
    this.collect();
    this.#heap.trim();
  }

  /** Block start for a payload offset, or NOT_ARENA / NOT_LIVE / NOT_START. Sets #locEntry and #locSegment. */
  #locate(offset: number): number {
    const { dataStart, totalBytes } = this.layout;
    if (!Number.isInteger(offset) || offset < dataStart || offset >= totalBytes || offset % 16 !== 0) return NOT_ARENA;
    const index = this.#table.indexOf(offset);
    const e = this.#table.entry(index);
    const kind = entryKind(e);
    const base = this.#table.base(index);
    let blockStart: number;
    if (kind === KIND_SMALL) {
      const bytes = classBytes(entryClass(e));
      blockStart = base + Math.floor((offset - base) / bytes) * bytes;
    } else if (kind === KIND_LARGE) {
      blockStart = base;
    } else {
      return NOT_LIVE;
    }
    // Inside a block but not at its payload: a view into the middle, or a stale handle into memory
    // that was re-carved with another size class.
    const i32 = this.#words.covering(blockStart + BLOCK_HEADER_BYTES); // claimed segments are committed
    if (blockStart + metaDelta(i32[blockStart / 4 + HDR_META] ?? 0) !== offset) return NOT_START;
    this.#locEntry = e;
    this.#locSegment = index;
    return blockStart;
  }

  #isLive(offset: number, generation: number): boolean {
    const blockStart = this.#locate(offset);
    if (blockStart < 0) return false;
    return Atomics.load(this.#words.i32, blockStart / 4 + HDR_STAMP) === stamp(generation, STATE_LIVE);
  }

  /** Requested length of a live block under `handle`, checked against an optional wanted length. */
  #checkedLength(handle: ArenaHandle, wanted: number | undefined, elementBytes: number): number {
    const { offset, generation } = this.#checkHandle(handle);
    const blockStart = this.#locate(offset);
    if (blockStart === NOT_ARENA) throw new ArenaInvalidHandleError(`expected an arena handle, got offset ${offset}`);
    if (blockStart < 0) throw new ArenaUseAfterReleaseError(offset, generation, 'its memory is no longer a live block');
    const hw = blockStart / 4;
    const i32 = this.#words.i32; // covers the block: #locate refreshed it
    const s = Atomics.load(i32, hw + HDR_STAMP);
    if (stampState(s) !== STATE_LIVE || stampGeneration(s) !== generation) {
      throw new ArenaUseAfterReleaseError(offset, generation, this.#staleDetail(s));
    }
    const length = (i32[hw + HDR_LEN] ?? 0) >>> 0;
    if (wanted === undefined) return length - (length % elementBytes);
    if (!Number.isInteger(wanted) || wanted < 0 || wanted > length) {
      throw invalidOption(RangeError, 'length', `at most the block's ${length} bytes`, `${wanted} bytes`);
    }
    return wanted;
  }

  #staleDetail(s: number): string {
    const state = stampState(s);
    const now = stampGeneration(s);
    if (state === STATE_LIVE) return `the memory was reused: it is now generation ${now}`;
    return `the block is free (generation ${now})`;
  }

  #checkHandle(handle: ArenaHandle): ArenaHandle {
    if (typeof handle !== 'object' || handle === null || typeof handle.offset !== 'number' || typeof handle.generation !== 'number') {
      throw invalidOption(TypeError, 'handle', 'an arena handle { offset, generation }', handle);
    }
    return handle;
  }

  #checkSlot(slot: number, name: string): void {
    if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= this.layout.maxOwners) {
      throw invalidOption(RangeError, name, `an owner slot in [0, ${this.layout.maxOwners - 1}]`, slot);
    }
  }

  /** Handle of a view this thread has not seen yet (e.g. it arrived by reference from another thread). */
  #foreignHandle(view: ArrayBufferView, what: 'release'): ArenaHandle {
    if (view.buffer === this.sab) {
      const blockStart = this.#locate(view.byteOffset);
      if (blockStart >= 0) {
        const s = Atomics.load(this.#words.i32, blockStart / 4 + HDR_STAMP);
        if (stampState(s) === STATE_LIVE) return { offset: view.byteOffset, generation: stampGeneration(s) };
        throw new ArenaDoubleFreeError(what, view.byteOffset, stampGeneration(s), this.#staleDetail(s));
      }
      if (blockStart === NOT_LIVE) throw new ArenaDoubleFreeError(what, view.byteOffset, -1, 'its memory is no longer a live block');
    }
    throw new ArenaInvalidHandleError(
      `expected a typed array allocated from this arena (starting exactly at its block), got ${view.constructor.name} ` +
        `(${view.byteLength} bytes${view.buffer === this.sab ? ` at offset ${view.byteOffset}` : ' on another buffer'})`,
    );
  }

  #construct(ctor: TypedArrayCtor, offset: number, length: number): ArrayBufferView {
    const C = ctor as unknown as new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
    return new C(this.sab, offset, length);
  }

  #remember<V extends ArrayBufferView>(view: V, handle: ArenaHandle): V {
    this.#handles.set(view, handle);
    return view;
  }

  #exhausted(byteLength: number): never {
    throw new ArenaExhaustedError(byteLength, this.layout.totalBytes, this.stats().liveBytes);
  }
}

export interface ArenaLease<A> extends Disposable {
  readonly array: A;
  readonly handle: ArenaHandle;
  /** Releases the array once; later calls (and the dispose at the end of a `using` scope) do nothing. */
  release(): void;
}

// The arena's whole public surface from this one module (worker fixtures import dist/memory/arena.js).
export { createArenaBuffer, growableSharedMemorySupported, readArenaLayout } from './layout.js';
export type { ArenaLayout, ArenaOptions } from './layout.js';
export type { ArenaHandle, ArenaStats, OwnerStats, OwnerState, ReclaimReport, TypedArrayCtor } from './types.js';
export type { ArenaLeak, LeakListener } from './leak-reporter.js';
