/**
 * Class identity across threads. A class is known by `<module url>#<export name>`: the module that exports
 * it and the name it is exported under. Both survive minification (export names are part of a module's
 * interface), unlike `Function.name`. Each side imports the module itself and looks the class up by id.
 *
 * A class is found in one of two ways: its module is listed in `modules` (imported by every
 * worker at start and by the main thread at `launch()`), or the class declares
 * `static module = import.meta.url` (imported on first use).
 */

import { ClassUnavailableError } from '../codec/errors.js';

export type ModuleNamespace = Record<string, unknown>;

/** An own static property of each of the library's error classes: its export name (set in api/errors.ts). */
export const LIBRARY_CLASS = Symbol.for('isolate-workgroup.library-class');
/** The id under which both threads register the library's error classes. */
export const LIBRARY_CLASSES_ID = 'isolate-workgroup:errors';

/** Builds the message for a class the workgroup cannot find. */
export function unknownClassMessage(ctor: Function): string {
  const name = ctor.name || '<anonymous class>';
  return (
    `class ${name} is not known to the workgroup: export it from a work module and list that module in ` +
    `\`modules\` (new IsolateWorkgroup(n, { modules: [new URL('./work.js', import.meta.url)] })), or add ` +
    `\`static module = import.meta.url\` to the class`
  );
}

export class ClassRegistry {
  readonly #idByCtor = new Map<Function, string>();
  readonly #ctorById = new Map<string, Function>();
  readonly #modules = new Map<string, Promise<ModuleNamespace>>();
  readonly #loaded = new Set<string>();
  readonly #importer: (url: string) => Promise<ModuleNamespace>;
  readonly #namespaces = new Map<string, ModuleNamespace>();
  /** Modules this thread must not wait for (see defer()); the value: listed in `modules`. */
  readonly #deferred = new Map<string, boolean>();

  constructor(importer: (url: string) => Promise<ModuleNamespace> = (url) => import(/* webpackIgnore: true */ /* @vite-ignore */ url)) {
    this.#importer = importer;
  }

  /** Registers every exported function (class) of a module namespace. */
  registerModule(url: string, ns: ModuleNamespace): void {
    this.#loaded.add(url);
    this.#namespaces.set(url, ns);
    for (const [name, value] of Object.entries(ns)) {
      if (typeof value !== 'function' || name === 'default' && this.#idByCtor.has(value)) continue;
      const id = `${url}#${name}`;
      if (!this.#idByCtor.has(value)) this.#idByCtor.set(value, id);
      this.#ctorById.set(id, value);
    }
  }

  /** Imports a module once (concurrent callers share the import) and registers its exports. */
  load(url: string): Promise<ModuleNamespace> {
    if (this.isDeferred(url)) {
      const refused = Promise.reject(new ClassUnavailableError(deferredMessage(url)));
      refused.catch(() => {}); // a caller may only look at it later (DecodeSuspend)
      return refused;
    }
    let p = this.#modules.get(url);
    if (!p) {
      p = this.#importer(url).then((ns) => {
        this.registerModule(url, ns);
        return ns;
      });
      this.#modules.set(url, p);
      p.catch(() => this.#modules.delete(url));
    }
    return p;
  }

  isLoaded(url: string): boolean {
    return this.#loaded.has(url);
  }

  /**
   * Main thread only: `url` is the program's entry module, which may still be running its top-level code
   * (a one-file program: job classes and main code in one module). Importing it from there would wait for
   * itself (Node then exits with code 13), so this thread never waits for it. When it is `listed` in
   * `modules` it is imported in the background (registered if that ever finishes: the entry's evaluation
   * has ended); until then — and always for a class that names it with `static module` — a class of it is
   * known by the name of its constructor (`<url>#<name>`, assigned on first send), which the worker looks
   * up among the module's exports (export name first, then the function's own name, see findByName()).
   */
  defer(url: string, listed: boolean): void {
    if (this.#loaded.has(url) || this.#deferred.has(url)) return;
    this.#deferred.set(url, listed);
    if (!listed) return; // nothing asked main to import the entry: leave it alone
    this.#importer(url).then(
      (ns) => this.registerModule(url, ns),
      () => {}, // the workers report a module that cannot be imported
    );
  }

  isDeferred(url: string): boolean {
    return this.#deferred.has(url) && !this.#loaded.has(url);
  }

  /**
   * The id of a class: registered, one of the library's error classes from another copy of the library
   * (an own `LIBRARY_CLASS` name; a subclass inherits the property but does not own it), or a class of a
   * deferred entry module (see defer()).
   */
  idOf(ctor: Function): string | undefined {
    const id = this.#idByCtor.get(ctor);
    if (id !== undefined) return id;
    if (Object.hasOwn(ctor, LIBRARY_CLASS)) return `${LIBRARY_CLASSES_ID}#${String((ctor as unknown as Record<symbol, unknown>)[LIBRARY_CLASS])}`;
    if (this.#deferred.size === 0) return undefined;
    return this.#provisionalId(ctor);
  }

  /** A class of a deferred module, named by its constructor's name (see defer()). */
  #provisionalId(ctor: Function): string | undefined {
    if (!ctor.name || Function.prototype.toString.call(ctor).includes('[native code]')) return undefined;
    const declared = (ctor as { module?: unknown }).module;
    const declaredUrl = declared instanceof URL ? declared.href : declared;
    let url: string | undefined;
    if (typeof declaredUrl === 'string') url = this.isDeferred(declaredUrl) ? declaredUrl : undefined;
    else for (const [u, listed] of this.#deferred) if (listed && this.isDeferred(u)) url = u;
    if (url === undefined) return undefined;
    const id = `${url}#${ctor.name}`;
    this.#idByCtor.set(ctor, id);
    if (!this.#ctorById.has(id)) this.#ctorById.set(id, ctor);
    return id;
  }

  /**
   * A class of a loaded module by name: the export of that name, or else the one exported function whose
   * own name is `name` (a bundler may rename a class and export it under another name).
   */
  findByName(url: string, name: string): Function | undefined {
    const ns = this.#namespaces.get(url);
    if (!ns) return undefined;
    const exported = ns[name];
    if (typeof exported === 'function') return exported;
    const found = Object.values(ns).filter((v): v is Function => typeof v === 'function' && v.name === name);
    return found.length === 1 ? found[0] : undefined;
  }

  ctorOf(id: string): Function | undefined {
    return this.#ctorById.get(id);
  }

  /**
   * The module a class declares with `static module = import.meta.url` (own or inherited), when that
   * module has not been loaded yet; undefined otherwise.
   */
  pendingModuleOf(ctor: Function): string | undefined {
    const declared = (ctor as { module?: unknown }).module;
    const url = declared instanceof URL ? declared.href : declared;
    if (typeof url !== 'string' || this.#loaded.has(url) || this.#deferred.has(url)) return undefined;
    return url;
  }
}

export function deferredMessage(url: string): string {
  return (
    `the main thread cannot import ${url}: it is the program's entry module and is still running its top-level code ` +
    '(importing it would wait for itself), so main cannot rebuild a class of it that a worker sent back. Classes that ' +
    'come back to the main thread (results, progress values, custom errors) must live in a separate work module, or ' +
    'be sent from the main thread first (main then knows them by name)'
  );
}

/** Splits `<url>#<name>` (the url may itself contain `#`: the name is after the last one). */
export function splitClassId(id: string): { url: string; name: string } {
  const at = id.lastIndexOf('#');
  return { url: id.slice(0, at), name: id.slice(at + 1) };
}
