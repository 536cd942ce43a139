/**
 * The few browser globals the browser adapter and entry use, typed here (the project compiles without the
 * DOM lib, so that Node code cannot use browser globals by accident). Types only: nothing runs.
 */

export interface BrowserMessagePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  close(): void;
}

export interface BrowserMessageChannel {
  readonly port1: BrowserMessagePort;
  readonly port2: BrowserMessagePort;
}

export interface BrowserErrorEvent {
  readonly message?: string;
  readonly error?: unknown;
  readonly filename?: string;
  readonly lineno?: number;
  preventDefault(): void;
}

export interface BrowserWorker {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'error', listener: (event: BrowserErrorEvent) => void): void;
  terminate(): void;
}

/** The Web Locks API (`navigator.locks`): a lock held by a worker is released only when its thread is gone. */
export interface BrowserLockManager {
  request(name: string, callback: () => Promise<unknown> | unknown): Promise<unknown>;
}

export interface BrowserGlobals {
  readonly crossOriginIsolated?: boolean;
  readonly isSecureContext?: boolean;
  readonly Worker?: new (url: URL, options: { type: 'module' }) => BrowserWorker;
  readonly MessageChannel: new () => BrowserMessageChannel;
  readonly navigator?: { readonly hardwareConcurrency?: number; readonly locks?: BrowserLockManager };
  readonly crypto?: { randomUUID?(): string };
}

/** What a dedicated worker's global scope offers the entry. */
export interface BrowserWorkerScope extends BrowserGlobals {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void, options?: { once?: boolean }): void;
  addEventListener(type: 'error', listener: (event: BrowserErrorEvent) => void): void;
  addEventListener(type: 'unhandledrejection', listener: (event: { readonly reason: unknown; preventDefault(): void }) => void): void;
  close(): void;
}

/** Messages on the Worker's own channel (the control channel is a separate MessagePort). */
export interface BrowserBoot {
  readonly init: unknown;
  readonly port: BrowserMessagePort;
  /** Web Locks name the worker holds for its whole life; undefined where `navigator.locks` is missing. */
  readonly lock: string | undefined;
}

export type BrowserLifecycle =
  /** The worker holds its life lock (or has none): from now on it may touch shared memory. */
  | { readonly lifecycle: 'started' }
  /** The worker's loop ended and it is closing itself. */
  | { readonly lifecycle: 'closed' };
