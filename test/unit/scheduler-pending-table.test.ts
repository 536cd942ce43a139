import { describe, expect, it } from 'vitest';
import { Pending, PendingTable } from '../../src/scheduler/pending.js';

function table() {
  const released: number[] = [];
  let changes = 0;
  const t = new PendingTable(
    (p) => released.push(p.id),
    () => changes++,
  );
  return { t, released, changes: () => changes };
}

describe('pending table', () => {
  it('settles an entry exactly once: a second resolve or reject is refused and changes nothing', async () => {
    const { t, released } = table();
    const p = t.create('job', undefined, undefined, 0);
    const promise = p.promise!;
    t.add(p);
    expect(t.size).toBe(1);
    expect(t.resolve(p, 42)).toBe(true);
    expect(t.resolve(p, 43)).toBe(false);
    expect(t.reject(p, new Error('late'))).toBe(false);
    await expect(promise).resolves.toBe(42);
    expect(t.size).toBe(0);
    expect(t.tracked).toBe(0);
    expect(released).toEqual([p.id]); // released once
  });

  it('gives distinct ids, and tells when it becomes empty or non-empty (keep-alive and the results loop follow it)', () => {
    const { t, changes } = table();
    const made = t.create('job', undefined, undefined, 0);
    made.promise!.catch(() => undefined);
    const a = made;
    const b = t.create('invoke', undefined, undefined, 7);
    expect(a.id).not.toBe(b.id);
    t.add(a);
    expect(changes()).toBe(1);
    t.add(b);
    expect(changes()).toBe(1); // still non-empty
    t.reject(a, new Error('x'));
    expect(changes()).toBe(1);
    t.resolve(b, 1);
    expect(changes()).toBe(2); // empty now
  });

  it('a call rejected while a worker holds it stays tracked (not counted as pending) until forgotten', async () => {
    const { t, released } = table();
    const p = t.create('job', undefined, undefined, 0);
    const promise = p.promise!;
    let cleaned = 0;
    p.cleanup = () => cleaned++;
    t.add(p);
    expect(t.rejectHeld(p, new Error('timed out'))).toBe(true);
    await expect(promise).rejects.toThrow('timed out');
    expect(cleaned).toBe(1); // its timer and signal listener are gone at once
    expect(p.status).toBe('cancelled');
    expect(t.size).toBe(0); // pendingCount: settled
    expect(t.tracked).toBe(1); // still here: its frame may still be read by the worker
    expect(released).toEqual([]); // its blocks stay valid until then
    expect(t.resolve(p, 'late answer')).toBe(false); // a late answer settles nothing
    t.forget(p);
    expect(t.tracked).toBe(0);
    expect(released).toEqual([p.id]);
  });

  it('nextSettle resolves at the next settle or forget (drain waits on it)', async () => {
    const { t } = table();
    const p = t.create('job', undefined, undefined, 0);
    t.add(p);
    let woke = false;
    const waiting = t.nextSettle().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    t.resolve(p, 1);
    await waiting;
    expect(woke).toBe(true);
  });

  it('an entry from another table generation (same id, other object) is never settled by mistake', () => {
    const { t } = table();
    const p = t.create('job', undefined, undefined, 0);
    t.add(p);
    const impostor = new Pending(p.id, 'job', undefined, undefined, 0, undefined, 0);
    impostor.promise!.catch(() => undefined);
    expect(t.resolve(impostor, 1)).toBe(false);
    expect(t.size).toBe(1);
  });
});
