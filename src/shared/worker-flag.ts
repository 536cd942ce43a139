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
