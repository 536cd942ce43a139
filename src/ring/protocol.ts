/**
 * The wire protocol between the main thread and a worker, in one place.
 *
 * Data plane — records in the SPSC rings of a lane (payload layouts; every payload after the fixed
 * header is one codec value):
 *
 * | ring    | type            | fixed header (little endian)                 | then                    |
 * |---------|-----------------|----------------------------------------------|-------------------------|
 * | direct  | REC_JOB         | u32 jobId, f64 enqueueTime                   | the job                 |
 * | direct  | REC_INVOKE      | u32 callId, u32 memberId                     | the command             |
 * | direct  | REC_NOTIFY_REPLY| u32 notifyId, u32 ok (1) / error (0)         | the answer or the error |
 * | result  | REC_OK          | u32 id                                       | the result              |
 * | result  | REC_ERR         | u32 id, u32 origin (ORIGIN_*)                | the error               |
 * | result  | REC_PROGRESS    | u32 jobId                                    | the progress value      |
 * | result  | REC_NOTIFY      | u32 notifyId, u32 memberId                   | the command             |
 * | result  | REC_UNCAUGHT    | u32 0, u32 origin                            | the error               |
 * | both    | REC_SPILL       | u32 innerType, i32 arenaOffset, i32 arenaGen, u32 length | (the record body lives in the arena) |
 *
 * Jobs for "any worker" travel in the shared job queue (job-queue.ts), not in a lane.
 *
 * Control plane — postMessage, lifecycle only (see the unions below).
 */

export const REC_JOB = 1;
export const REC_INVOKE = 2;
export const REC_NOTIFY_REPLY = 3;
export const REC_OK = 16;
export const REC_ERR = 17;
export const REC_PROGRESS = 18;
export const REC_NOTIFY = 19;
export const REC_UNCAUGHT = 20;
export const REC_SPILL = 31;

/** Where an error came from; the main thread routes it to the matching `IsolateErrorType`. */
export const ORIGIN_JOB = 1;
export const ORIGIN_INSTANCE = 2;
export const ORIGIN_COMMUNICATION = 3;
export const ORIGIN_UNKNOWN = 4;
export const ORIGIN_INITIALIZATION = 5;

/** Errors the worker raises itself (not thrown by user code): main rebuilds them as workgroup errors. */
export const ORIGIN_FLAG_INTERNAL = 0x100;

export interface WorkerInit {
  readonly type: 'init';
  readonly pool: SharedArrayBuffer;
  readonly lane: SharedArrayBuffer;
  readonly arena: SharedArrayBuffer;
  readonly slot: number;
  readonly index: number;
  readonly label: string;
  readonly modules: readonly string[];
  readonly concurrency: number;
  readonly spinIterations: number;
  readonly parkTimeoutMs: number;
  /** 'coalesce': a report finding the result ring ¾ full replaces the waiting one; 'all': the job waits for room. */
  readonly progress: 'coalesce' | 'all';
  readonly sharedBuffers: ReadonlyArray<readonly [number, SharedArrayBuffer]>;
}

/** main → worker control messages. */
export type ControlToWorker =
  | { readonly type: 'sab'; readonly id: number; readonly buffer: SharedArrayBuffer }
  | { readonly type: 'addMember'; readonly memberId: number; readonly bytes: Uint8Array }
  | { readonly type: 'destroyMember'; readonly memberId: number }
  | { readonly type: 'transfer'; readonly id: number; readonly buffer: ArrayBuffer }
  | { readonly type: 'stop' };

/** worker → main control messages. */
export type ControlToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'setupFailed'; readonly error: Uint8Array }
  | { readonly type: 'memberReady'; readonly memberId: number }
  | { readonly type: 'memberFailed'; readonly memberId: number; readonly error: Uint8Array }
  | { readonly type: 'memberDisposed'; readonly memberId: number; readonly error?: Uint8Array }
  | { readonly type: 'wake' }
  | { readonly type: 'sab'; readonly id: number; readonly buffer: SharedArrayBuffer }
  | { readonly type: 'transfer'; readonly id: number; readonly buffer: ArrayBuffer };
