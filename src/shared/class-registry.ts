/**
 * Class identity across threads. A class is known by `<module url>#<export name>`: the module that exports
 * it and the name it is exported under. Both survive minification (export names are part of a module's
 * interface), unlike `Function.name`. Each side imports the module itself and looks the class up by id.
 *
 * A class is found in one of two ways (SPEC §1): its module is listed in `modules` (imported by every
 * worker at start and by the main thread at `launch()`), or the class declares
 * `static module = import.meta.url` (imported on first use).
 */

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

  constructor(importer: (url: string) => Promise<ModuleNamespace> = (url) => import(/* webpackIgnore: true */ /* @vite-ignore */ url)) {
    this.#importer = importer;
  }

  /** Registers every exported function (class) of a module namespace. */
  registerModule(url: string, ns: ModuleNamespace): void {
    this.#loaded.add(url);
    for (const [name, value] of Object.entries(ns)) {
      if (typeof value !== 'function' || name === 'default' && this.#idByCtor.has(value)) continue;
      const id = `${url}#${name}`;
      if (!this.#idByCtor.has(value)) this.#idByCtor.set(value, id);
      this.#ctorById.set(id, value);
    }
  }

  /** Imports a module once (concurrent callers share the import) and registers its exports. */
  load(url: string): Promise<ModuleNamespace> {
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
   * The id of a class: registered, or one of the library's error classes from another copy of the library
   * (an own `LIBRARY_CLASS` name; a subclass inherits the property but does not own it).
   */
  idOf(ctor: Function): string | undefined {
    const id = this.#idByCtor.get(ctor);
    if (id !== undefined || !Object.hasOwn(ctor, LIBRARY_CLASS)) return id;
    return `${LIBRARY_CLASSES_ID}#${String((ctor as unknown as Record<symbol, unknown>)[LIBRARY_CLASS])}`;
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
    if (typeof url !== 'string' || this.#loaded.has(url)) return undefined;
    return url;
  }
}

/** Splits `<url>#<name>` (the url may itself contain `#`: the name is after the last one). */
export function splitClassId(id: string): { url: string; name: string } {
  const at = id.lastIndexOf('#');
  return { url: id.slice(0, at), name: id.slice(at + 1) };
}
