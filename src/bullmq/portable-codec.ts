/**
 * The library's codec, made portable across machines: jobs, results, progress values and errors travel
 * through Redis as base64 text (BullMQ stores job data and results as JSON strings).
 *
 * Class identity. Inside one process a class is known by `<module url>#<export name>`; across machines the
 * URLs differ (each machine loads the work modules from its own path), so here a class is known by
 * `<module name>#<export name>`, where the module name is the key the user gave the module in `modules`
 * (`{ work: new URL('./work.js', import.meta.url) }`; with an array, the file name without its extension).
 * Producer and machines must give the same names to the same modules; export names survive minification.
 * The library's own error classes are known as `isolate-workgroup#<class name>` on every machine.
 *
 * Frame: 4 header bytes, then the codec's bytes.
 *
 * | offset | width | field                                                                   |
 * |--------|-------|-------------------------------------------------------------------------|
 * | 0      | 1     | magic 0x49 ('I')                                                        |
 * | 1      | 1     | format version (1)                                                      |
 * | 2      | 1     | byte order of the writer: 1 little-endian, 2 big-endian                 |
 * | 3      | 1     | reserved (0)                                                            |
 * | 4      | …     | one value in the codec's format (src/codec/tags.ts), host byte order    |
 *
 * The codec writes numbers and typed arrays in the host's byte order; a frame from a machine of the other
 * byte order is refused with a clear error rather than misread (every mainstream server is little-endian).
 * SharedArrayBuffers (and the workgroup's shared arrays) cannot cross machines: they are refused with the
 * path and the fix (copy into a plain typed array). Everything else is copied into the frame.
 */
import { decodeFromBytes, encodeToBytes, Refusal, type DecodeHooks, type EncodeHooks } from '../codec/codec.js';
import { LIBRARY_ERROR_CLASSES } from '../api/errors.js';

const MAGIC = 0x49;
const VERSION = 1;
const LITTLE = 1;
const BIG = 2;
const HOST_ORDER = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? LITTLE : BIG;
export const LIBRARY_MODULE_NAME = 'isolate-workgroup';

/** Work modules by portable name: `{ name: URL }`, or an array (each named by its file name without the extension). */
export type PortableModules = Readonly<Record<string, URL | string>> | readonly (URL | string)[];

/** Normalises `modules` to [name, absolute URL] pairs; throws TypeError/RangeError naming what was wrong. */
export function normalizeModules(modules: unknown, option = 'modules'): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const toHref = (value: unknown, where: string): string => {
    if (value instanceof URL) return value.href;
    if (typeof value === 'string') {
      try {
        return new URL(value).href;
      } catch {
        throw new TypeError(`expected \`${where}\` to be an absolute URL (e.g. new URL('./work.js', import.meta.url)), got ${JSON.stringify(value)}`);
      }
    }
    throw new TypeError(`expected \`${where}\` to be a URL or an absolute URL string, got ${value === null ? 'null' : typeof value}`);
  };
  if (Array.isArray(modules)) {
    modules.forEach((m, i) => {
      const href = toHref(m, `${option}[${i}]`);
      const file = decodeURIComponent(new URL(href).pathname.split('/').pop() ?? '');
      const name = file.replace(/\.[^.]*$/, '');
      out.push([name, href]);
    });
  } else if (modules !== null && typeof modules === 'object') {
    for (const [name, m] of Object.entries(modules)) out.push([name, toHref(m, `${option}.${name}`)]);
  } else {
    throw new TypeError(`expected \`${option}\` to be an object of named module URLs ({ work: new URL('./work.js', import.meta.url) }) or an array of URLs, got ${modules === undefined ? 'undefined' : typeof modules}`);
  }
  const seen = new Map<string, string>();
  for (const [name, href] of out) {
    if (name === '' || name.includes('#') || name === LIBRARY_MODULE_NAME) {
      throw new RangeError(`expected every name in \`${option}\` to be non-empty, without '#', and not '${LIBRARY_MODULE_NAME}', got ${JSON.stringify(name)}`);
    }
    const other = seen.get(name);
    if (other !== undefined) {
      throw new RangeError(`two modules in \`${option}\` have the name "${name}" (${other} and ${href}): give them distinct names with the object form, { ${name}: …, ${name}2: … }`);
    }
    seen.set(name, href);
  }
  return out;
}

/** Thrown by `decode` for a class the receiving side does not know; the message says what to do. */
export class UnknownRemoteClassError extends Error {
  readonly classId: string;
  constructor(classId: string, known: readonly string[]) {
    super(
      `class "${classId}" is not known on this machine: its modules are ${known.length ? known.map((n) => `"${n}"`).join(', ') : 'none'}. ` +
        'Load the same work modules under the same names on the producer and on every machine (`modules: { name: url }`), ' +
        'and export the class from one of them',
    );
    this.name = 'UnknownRemoteClassError';
    this.classId = classId;
  }
}

export class PortableCodec {
  readonly #idByCtor = new Map<Function, string>();
  readonly #ctorById = new Map<string, Function>();
  readonly #modules: Array<[string, string]>;
  readonly #encodeHooks: EncodeHooks;
  readonly #decodeHooks: DecodeHooks;
  #loaded: Promise<void> | undefined;
  /** True once `load()` has imported every work module. */
  loaded = false;

  constructor(modules: Array<[string, string]>) {
    this.#modules = modules;
    this.#register(LIBRARY_MODULE_NAME, LIBRARY_ERROR_CLASSES);
    this.#encodeHooks = {
      classRef: (ctor) => {
        const id = this.#idByCtor.get(ctor);
        if (id !== undefined || ctor.prototype instanceof Error) return id;
        throw new Refusal(
          `is an instance of class ${ctor.name || '(anonymous)'}, which is not exported from any module in \`modules\` ` +
            `(${this.moduleNames().join(', ') || 'none'}): export it from a work module and list that module, under the same name, on the producer and on every machine`,
        );
      },
      sharedBuffer: () => {
        throw new Refusal('is shared memory (a SharedArrayBuffer or a view on one), which cannot cross machines: send a copy (`new Float64Array(shared)`, `array.slice()`)');
      },
    };
    this.#decodeHooks = {
      classByRef: (ref) => {
        const ctor = typeof ref === 'string' ? this.#ctorById.get(ref) : undefined;
        if (ctor === undefined) throw new UnknownRemoteClassError(String(ref), this.moduleNames());
        return ctor;
      },
      sharedBuffer: (id) => {
        throw new Error(`the frame names shared buffer #${id}, which cannot cross machines`);
      },
    };
  }

  moduleNames(): string[] {
    return this.#modules.map(([name]) => name);
  }

  /** The absolute URLs of the work modules (what a local workgroup must list in its own `modules`). */
  moduleUrls(): string[] {
    return this.#modules.map(([, href]) => href);
  }

  /** Imports every work module once and registers its exported classes under their portable ids. */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      for (const [name, href] of this.#modules) {
        let ns: Record<string, unknown>;
        try {
          ns = (await import(/* webpackIgnore: true */ /* @vite-ignore */ href)) as Record<string, unknown>;
        } catch (e) {
          throw new Error(`could not import work module "${name}" (${href}): ${(e as Error)?.message ?? String(e)}`, { cause: e });
        }
        this.#register(name, ns);
      }
      this.loaded = true;
    })();
    this.#loaded.catch(() => (this.#loaded = undefined));
    return this.#loaded;
  }

  #register(name: string, ns: Readonly<Record<string, unknown>>): void {
    for (const [exportName, value] of Object.entries(ns)) {
      if (typeof value !== 'function' || exportName === 'default') continue;
      const id = `${name}#${exportName}`;
      if (!this.#idByCtor.has(value)) this.#idByCtor.set(value, id);
      this.#ctorById.set(id, value);
    }
  }

  /** The portable id of a class, or undefined. */
  idOf(ctor: Function): string | undefined {
    return this.#idByCtor.get(ctor);
  }

  /** Encodes `value` to base64 text. Throws the codec's UnsendableError (with the path from `root`). */
  encode(value: unknown, root: string): string {
    const body = encodeToBytes(value, this.#encodeHooks, root);
    const frame = new Uint8Array(body.length + 4);
    frame[0] = MAGIC;
    frame[1] = VERSION;
    frame[2] = HOST_ORDER;
    frame.set(body, 4);
    return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64');
  }

  /** Decodes what `encode` wrote. Throws a clear Error for text that is not a frame, and UnknownRemoteClassError. */
  decode(text: unknown): unknown {
    if (typeof text !== 'string') throw new Error(`expected an isolate-workgroup frame (base64 text), got ${text === null ? 'null' : typeof text}`);
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length < 4 || bytes[0] !== MAGIC) throw new Error('the data is not an isolate-workgroup frame (was the job added by something other than RemoteWorkgroup?)');
    if (bytes[1] !== VERSION) throw new Error(`frame format version ${bytes[1]} is not supported (this side reads version ${VERSION}): run the same isolate-workgroup version on the producer and the machines`);
    if (bytes[2] !== HOST_ORDER) throw new Error('the frame was written on a machine of the other byte order, which this version cannot read');
    return decodeFromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset + 4, bytes.length - 4), this.#decodeHooks);
  }
}
