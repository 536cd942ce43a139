// A bundled app can hold two copies of the library in one thread (Vite builds the worker entry apart from
// the work modules): an error class of the copy the codec does not know must still cross as the library
// class it is, and a user's subclass of it must not pass for the library class.
import { describe, expect, it } from 'vitest';
import { LIBRARY_CLASSES_ID, LIBRARY_ERROR_CLASSES } from '../../src/api/errors.js';
import { ClassRegistry, LIBRARY_CLASS } from '../../src/shared/class-registry.js';

/** What another copy of the library defines: a class of the same name, carrying the same mark. */
function copyOf(name: string): Function {
  const copy = class extends Error {};
  Object.defineProperty(copy, LIBRARY_CLASS, { value: name });
  return copy;
}

describe('ClassRegistry.idOf', () => {
  it("gives a library error class from another copy of the library the library's id", () => {
    const registry = new ClassRegistry();
    registry.registerModule(LIBRARY_CLASSES_ID, LIBRARY_ERROR_CLASSES);
    const copy = copyOf('WorkgroupTimeoutException');
    expect(registry.idOf(copy)).toBe(`${LIBRARY_CLASSES_ID}#WorkgroupTimeoutException`);
    expect(registry.ctorOf(registry.idOf(copy)!)).toBe(LIBRARY_ERROR_CLASSES['WorkgroupTimeoutException']);
  });

  it('marks every library error class with its export name', () => {
    for (const [name, ctor] of Object.entries(LIBRARY_ERROR_CLASSES)) expect(Object.getOwnPropertyDescriptor(ctor, LIBRARY_CLASS)?.value).toBe(name);
  });

  it('does not take a subclass of a library class for the library class, nor an unmarked class', () => {
    const registry = new ClassRegistry();
    const Base = LIBRARY_ERROR_CLASSES['WorkgroupException'] as new (m: string) => Error;
    class Mine extends Base {}
    expect(registry.idOf(Mine)).toBeUndefined();
    expect(registry.idOf(class Other extends Error {})).toBeUndefined();
  });
});
