/**
 * Detects a workgroup started while a worker imports its work modules (a module that both defines jobs
 * and, at top level, starts a workgroup would otherwise spawn workers recursively).
 */
const FLAG = Symbol.for('isolate-workgroup.importing-work-modules');

type Flagged = { [FLAG]?: number };

export function enterModuleImport(): void {
  const g = globalThis as Flagged;
  g[FLAG] = (g[FLAG] ?? 0) + 1;
}

export function leaveModuleImport(): void {
  const g = globalThis as Flagged;
  g[FLAG] = Math.max(0, (g[FLAG] ?? 1) - 1);
}

export function isImportingWorkModules(): boolean {
  return ((globalThis as Flagged)[FLAG] ?? 0) > 0;
}

/** What starting a workgroup while a worker imports its work modules throws (with either build of the entry). */
export const RECURSIVE_START_MESSAGE =
  'a work module started an IsolateWorkgroup while a worker imported it: workers import work modules to find ' +
  'job classes, so this would start workers recursively. Move the code that creates the workgroup out of the work ' +
  'module (or guard it with `if (isMainThread)` from node:worker_threads).';
