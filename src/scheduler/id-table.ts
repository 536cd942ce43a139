/**
 * A map from call id to entry, built for ids handed out in sequence (the pending table's): an entry lives
 * in a power-of-two array at `id & mask`, so a lookup is one array read and one compare, with no hashing
 * and no per-entry allocation (a `Map` cost about a third of main's time per tiny job). Two live ids that
 * land on the same cell — a long-lived call still holding its cell when the ids come round again — are
 * the rare case: the newer one goes to an overflow `Map`. The array doubles when it is half full.
 */
export class IdTable<T extends { readonly id: number }> {
  #cells: (T | undefined)[];
  #mask: number;
  readonly #overflow = new Map<number, T>();
  #size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.#cells = new Array<T | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    const e = this.#cells[id & this.#mask];
    if (e !== undefined && e.id === id) return e;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds `entry` (its id must not be in the table). */
  add(entry: T): void {
    if (this.#size * 2 >= this.#cells.length) this.#grow();
    this.#place(entry);
    this.#size++;
  }

  /** Removes `entry` if it is the one the table holds for its id; true when it did. */
  delete(entry: T): boolean {
    const i = entry.id & this.#mask;
    if (this.#cells[i] === entry) {
      this.#cells[i] = undefined;
    } else if (this.#overflow.get(entry.id) !== entry) {
      return false;
    } else {
      this.#overflow.delete(entry.id);
    }
    this.#size--;
    return true;
  }

  /** Every entry, oldest id first (a snapshot: safe to change the table while walking it). */
  values(): T[] {
    const out: T[] = [];
    for (const e of this.#cells) if (e !== undefined) out.push(e);
    for (const e of this.#overflow.values()) out.push(e);
    // Ids wrap at 2^31 − 1: the oldest is the first one after the largest gap.
    out.sort((a, b) => a.id - b.id);
    if (out.length > 1 && out[out.length - 1]!.id - out[0]!.id > 0x40000000) {
      const cut = out.findIndex((e) => e.id > 0x40000000);
      return [...out.slice(cut), ...out.slice(0, cut)];
    }
    return out;
  }

  #place(entry: T): void {
    const i = entry.id & this.#mask;
    if (this.#cells[i] === undefined) this.#cells[i] = entry;
    else this.#overflow.set(entry.id, entry);
  }

  #grow(): void {
    const old = this.#cells;
    const spilled = [...this.#overflow.values()];
    this.#overflow.clear();
    this.#cells = new Array<T | undefined>(old.length * 2).fill(undefined);
    this.#mask = this.#cells.length - 1;
    for (const e of old) if (e !== undefined) this.#place(e);
    for (const e of spilled) this.#place(e);
  }
}
