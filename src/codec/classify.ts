/**
 * What kind of built-in an object is, from its prototype: one Map lookup for the exact built-ins, a walk
 * up the prototype chain for subclasses. Objects from another realm (a `vm` context, an iframe) have
 * other prototypes and are treated as instances of an unknown class.
 */
import { ERROR_KINDS, VIEW_KINDS } from './tags.js';

/** Kind codes: 0..15 view kinds (VIEW_KINDS index), 16..31 error kinds, then these. */
export const Kind = {
  ERROR_FIRST: 16,
  MAP: 32,
  SET: 33,
  DATE: 34,
  REGEXP: 35,
  ARRAYBUFFER: 36,
  SAB: 37,
  /** Refused built-ins: code - REFUSED_FIRST indexes `refusalReasons`. */
  REFUSED_FIRST: 64,
} as const;

const kinds = new Map<object, number>();
const refusalReasons: string[] = [];

function refuse(proto: object | undefined, reason: string): void {
  if (proto === undefined) return;
  kinds.set(proto, Kind.REFUSED_FIRST + refusalReasons.length);
  refusalReasons.push(reason);
}

VIEW_KINDS.forEach((k, i) => {
  if (k.ctor !== undefined) kinds.set(k.ctor.prototype, i);
});
ERROR_KINDS.forEach((ctor, i) => kinds.set(ctor.prototype, Kind.ERROR_FIRST + i));
kinds.set(Map.prototype, Kind.MAP);
kinds.set(Set.prototype, Kind.SET);
kinds.set(Date.prototype, Kind.DATE);
kinds.set(RegExp.prototype, Kind.REGEXP);
kinds.set(ArrayBuffer.prototype, Kind.ARRAYBUFFER);
// Absent on pages without cross-origin isolation: the library must still load there, to explain why it cannot run.
if (typeof SharedArrayBuffer === 'function') kinds.set(SharedArrayBuffer.prototype, Kind.SAB);

refuse(Promise.prototype, 'is a Promise: promises cannot be sent to a worker; await it and send the result');
for (const [name, fix] of [
  ['WeakMap', 'use a Map'],
  ['WeakSet', 'use a Set'],
  ['WeakRef', 'send the value itself (deref())'],
  ['FinalizationRegistry', 'register the values in the worker instead'],
] as const) {
  const ctor = (globalThis as Record<string, unknown>)[name] as { prototype: object } | undefined;
  refuse(ctor?.prototype, `is a ${name}: weak references cannot be sent to a worker; ${fix}`);
}
for (const name of ['Number', 'String', 'Boolean', 'BigInt', 'Symbol'] as const) {
  const ctor = (globalThis as Record<string, unknown>)[name] as { prototype: object };
  refuse(ctor.prototype, `is a boxed ${name} object: send the primitive value (valueOf()) instead`);
}
// Platform objects that have a real global constructor here; others fall through to "unknown class".
const PLATFORM_CLASSES = [
  'MessagePort', 'MessageChannel', 'BroadcastChannel', 'Worker', 'SharedWorker', 'EventTarget', 'Event',
  'AbortController', 'AbortSignal', 'ReadableStream', 'WritableStream', 'TransformStream', 'Blob', 'File',
  'Request', 'Response', 'Headers', 'URL', 'URLSearchParams', 'ImageBitmap', 'OffscreenCanvas',
  'WebAssembly.Module', 'WebAssembly.Memory', 'WebAssembly.Instance',
];
/**
 * Names whose global is a lazy getter here (Node defines `Request`, `Blob`, `ReadableStream`, … that way):
 * reading one loads a whole subsystem — fetch alone costs ~15 ms of CPU per thread — so they are not
 * read at load time. They are looked up only when an object of a class with that name is sent.
 */
const deferredPlatform = new Set<string>();

function platformReason(name: string): string {
  const fix = name === 'URL' || name === 'URLSearchParams' ? 'send its string (href / toString()) instead' : 'send plain data instead';
  return `is a ${name}: platform objects cannot be sent through the workgroup; ${fix}`;
}

for (const name of PLATFORM_CLASSES) {
  const [head, ...rest] = name.split('.') as [string, ...string[]];
  const own = Object.getOwnPropertyDescriptor(globalThis, head);
  if (own?.get !== undefined && rest.length === 0) {
    deferredPlatform.add(name);
    continue;
  }
  let ctor: unknown = globalThis;
  for (const part of name.split('.')) ctor = (ctor as Record<string, unknown> | undefined)?.[part];
  if (typeof ctor !== 'function') continue;
  refuse(ctor.prototype as object, platformReason(name));
}

/**
 * The refusal for an instance of a platform class whose global was not read at load time (see
 * `deferredPlatform`), or of a subclass of one; undefined for anything else.
 */
export function deferredPlatformRefusal(proto: object | null): string | undefined {
  if (deferredPlatform.size === 0) return undefined;
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const ctor = (p as { constructor?: unknown }).constructor;
    const name = typeof ctor === 'function' ? ctor.name : undefined;
    if (name !== undefined && deferredPlatform.has(name) && (globalThis as Record<string, unknown>)[name] === ctor) return platformReason(name);
  }
  return undefined;
}

/** True for a SharedArrayBuffer (and false everywhere on a page without them). */
export function isSharedBuffer(buffer: unknown): buffer is SharedArrayBuffer {
  return typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;
}

/** Kind of an object whose prototype is exactly a built-in's, or undefined. */
export function exactKind(proto: object): number | undefined {
  return kinds.get(proto);
}

/** Kind of the nearest built-in on `proto`'s chain (for subclass instances), or undefined. */
export function inheritedKind(proto: object | null): number | undefined {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const k = kinds.get(p);
    if (k !== undefined) return k;
  }
  return undefined;
}

export function refusalReason(kind: number): string {
  return refusalReasons[kind - Kind.REFUSED_FIRST] ?? 'cannot be sent to a worker';
}

/** Descriptive name of a built-in kind (for messages). */
export function kindName(kind: number): string {
  if (kind < Kind.ERROR_FIRST) return VIEW_KINDS[kind]?.name ?? 'view';
  if (kind < Kind.MAP) return ERROR_KINDS[kind - Kind.ERROR_FIRST]?.name ?? 'Error';
  switch (kind) {
    case Kind.MAP: return 'Map';
    case Kind.SET: return 'Set';
    case Kind.DATE: return 'Date';
    case Kind.REGEXP: return 'RegExp';
    case Kind.ARRAYBUFFER: return 'ArrayBuffer';
    case Kind.SAB: return 'SharedArrayBuffer';
    default: return 'built-in object';
  }
}
