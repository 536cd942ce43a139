// The main thread's view of its own entry module (one-file programs): never waited for, classes known by
// name until (if ever) the entry's import finishes; the worker finds a class by export or function name.
import { describe, expect, it } from 'vitest';
import { ClassUnavailableError } from '../../src/codec/errors.js';
import { ClassRegistry } from '../../src/shared/class-registry.js';

const ENTRY = 'file:///app/main.mjs';

function importer(): { calls: string[]; finish: (ns: Record<string, unknown>) => void; fn: (url: string) => Promise<Record<string, unknown>> } {
  const calls: string[] = [];
  let finish!: (ns: Record<string, unknown>) => void;
  const pending = new Promise<Record<string, unknown>>((resolve) => (finish = resolve));
  return { calls, finish: (ns) => finish(ns), fn: (url) => (calls.push(url), pending) };
}

describe('ClassRegistry: a deferred entry module', () => {
  it('listed in modules: imported in the background, its classes named by constructor name meanwhile', async () => {
    const imp = importer();
    const r = new ClassRegistry(imp.fn);
    r.defer(ENTRY, true);
    expect(imp.calls).toEqual([ENTRY]);
    expect(r.isDeferred(ENTRY)).toBe(true);
    class Add {}
    expect(r.idOf(Add)).toBe(`${ENTRY}#Add`);
    expect(r.ctorOf(`${ENTRY}#Add`)).toBe(Add);
    const add = (a: number, b: number): number => a + b;
    expect(r.idOf(add)).toBe(`${ENTRY}#add`);
    expect(r.idOf(Map)).toBeUndefined(); // built-ins are never the entry's
    await expect(r.load(ENTRY)).rejects.toBeInstanceOf(ClassUnavailableError); // never waited for
    class Late {}
    imp.finish({ Late, Add });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(r.isDeferred(ENTRY)).toBe(false);
    expect(r.idOf(Late)).toBe(`${ENTRY}#Late`);
    expect(r.idOf(Add)).toBe(`${ENTRY}#Add`); // the name it was sent under stays
  });

  it('not listed: never imported; only classes that name it with `static module` are known by name', () => {
    const imp = importer();
    const r = new ClassRegistry(imp.fn);
    r.defer(ENTRY, false);
    expect(imp.calls).toEqual([]);
    class Own {
      static module = ENTRY;
    }
    class Stranger {}
    expect(r.pendingModuleOf(Own)).toBeUndefined(); // nothing to wait for
    expect(r.idOf(Own)).toBe(`${ENTRY}#Own`);
    expect(r.idOf(Stranger)).toBeUndefined(); // still refused as unknown
  });

  it('findByName: the export of that name first, else the one function with that own name', () => {
    const r = new ClassRegistry(() => Promise.reject(new Error('unused')));
    class a {}
    class b {}
    r.registerModule('file:///m.js', { Renamed: a, b, Twin1: b });
    expect(r.findByName('file:///m.js', 'Renamed')).toBe(a);
    expect(r.findByName('file:///m.js', 'a')).toBe(a);
    expect(r.findByName('file:///m.js', 'b')).toBe(b);
    expect(r.findByName('file:///m.js', 'missing')).toBeUndefined();
    expect(r.findByName('file:///other.js', 'a')).toBeUndefined();
  });
});
