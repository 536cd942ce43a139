// Shared arena: explicit exports only.
export { Arena } from './arena.js';
export type { ArenaAttachOptions, ArenaLease } from './arena.js';
export { createArenaBuffer, readArenaLayout, growableSharedMemorySupported } from './layout.js';
export type { ArenaOptions, ArenaLayout } from './layout.js';
export { isTypedArrayCtor } from './types.js';
export type { ArenaHandle, ArenaStats, OwnerStats, OwnerState, ReclaimReport, TypedArrayCtor } from './types.js';
export type { ArenaLeak, LeakListener } from './leak-reporter.js';
export {
  ArenaDoubleFreeError,
  ArenaExhaustedError,
  ArenaInvalidHandleError,
  ArenaOwnerError,
  ArenaUseAfterReleaseError,
} from './errors.js';
export type { ArenaErrorCode } from './errors.js';
