/**
 * Work modules the main thread imports on demand: a class declared with `static module = import.meta.url`
 * is loaded the first time a value of it is sent.
 */
import type { MainCodec } from './main-codec.js';

/** The module of the top-level class of `value` when it is not loaded yet (the common case: no walk). */
export function classesToLoad(codec: MainCodec, value: unknown): Promise<unknown> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const ctor = (value as object).constructor;
  if (typeof ctor !== 'function' || codec.registry.idOf(ctor) !== undefined) return undefined;
  const url = codec.registry.pendingModuleOf(ctor);
  return url === undefined ? undefined : codec.registry.load(url);
}

/** Walks a value for classes whose declared module is not loaded yet (after an encode refusal); loads them all. */
export function loadNestedClasses(codec: MainCodec, value: unknown): Promise<unknown> | undefined {
  const urls = new Set<string>();
  const seen = new Set<object>();
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 64) return;
    seen.add(v);
    const ctor = (v as object).constructor;
    if (typeof ctor === 'function' && codec.registry.idOf(ctor) === undefined) {
      const url = codec.registry.pendingModuleOf(ctor);
      if (url) urls.add(url);
    }
    if (v instanceof Map) for (const [k, x] of v) (visit(k, depth + 1), visit(x, depth + 1));
    else if (v instanceof Set) for (const x of v) visit(x, depth + 1);
    else if (!ArrayBuffer.isView(v)) for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], depth + 1);
  };
  visit(value, 0);
  if (urls.size === 0) return undefined;
  return Promise.all([...urls].map((u) => codec.registry.load(u)));
}
