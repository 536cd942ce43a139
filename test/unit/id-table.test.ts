// The pending table's id → entry map: an array cell per id, an overflow map for ids that collide.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/scheduler/id-table.js';

type E = { readonly id: number; readonly tag: number };

describe('IdTable', () => {
  it('finds what was added, forgets what was deleted, and refuses to delete an impostor with the same id', () => {
    const t = new IdTable<E>(16);
    const a = { id: 5, tag: 1 };
    t.add(a);
    expect(t.get(5)).toBe(a);
    expect(t.delete({ id: 5, tag: 2 })).toBe(false);
    expect(t.size).toBe(1);
    expect(t.delete(a)).toBe(true);
    expect(t.delete(a)).toBe(false);
    expect(t.get(5)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('keeps two live ids that share a cell (a long-lived entry when ids come round again)', () => {
    const t = new IdTable<E>(16);
    const old = { id: 3, tag: 0 };
    t.add(old);
    const later = { id: 3 + 16, tag: 1 };
    t.add(later);
    expect(t.get(3)).toBe(old);
    expect(t.get(19)).toBe(later);
    expect(t.delete(old)).toBe(true);
    expect(t.get(19)).toBe(later);
    expect(t.get(3)).toBeUndefined();
  });

  it('lists entries oldest first, across the wrap of ids at 2^31 − 1', () => {
    const t = new IdTable<E>(16);
    for (const id of [0x7ffffffd, 0x7ffffffe, 1, 2]) t.add({ id, tag: 0 });
    expect(t.values().map((e) => e.id)).toEqual([0x7ffffffd, 0x7ffffffe, 1, 2]);
  });

  it('behaves as a Map under random adds and deletes of sequential ids (growth, collisions, long-lived entries)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(1000)), { maxLength: 3000 }), fc.integer({ min: 1, max: 64 }), (ops, cap) => {
        const t = new IdTable<E>(cap);
        const model = new Map<number, E>();
        let next = 1;
        for (const [add, pick] of ops) {
          if (add || model.size === 0) {
            // Ids in sequence, as the pending table hands them out.
            const e = { id: next, tag: pick };
            next += 1 + (pick % 3 === 0 ? 40 : 0); // sometimes a jump, so cells collide
            t.add(e);
            model.set(e.id, e);
          } else {
            const keys = [...model.keys()];
            const id = keys[pick % keys.length]!;
            expect(t.delete(model.get(id)!)).toBe(true);
            model.delete(id);
          }
          expect(t.size).toBe(model.size);
        }
        for (const [id, e] of model) expect(t.get(id)).toBe(e);
        expect(t.values()).toEqual([...model.values()].sort((a, b) => a.id - b.id));
      }),
      { numRuns: 200 },
    );
  });
});
