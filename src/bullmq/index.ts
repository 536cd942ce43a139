/**
 * isolate-workgroup/bullmq — the same `WorkgroupJob` classes on many machines, through a BullMQ queue on
 * Redis. `bullmq` and `ioredis` are optional peer dependencies, loaded on first use; the main entry never
 * imports this file. Every public export is listed by name.
 */
export { RemoteWorkgroup } from './remote-workgroup.js';
export type { RemoteDispatchAllOptions, RemoteDispatchOptions, RemoteWorkgroupOptions } from './remote-workgroup.js';
export { serveWorkgroup } from './serve.js';
export type { ServeCloseOptions, ServeWorkerOptions, ServeWorkgroupOptions, WorkgroupServer } from './serve.js';
export { RemoteUnreachableException } from './connection.js';
export type { RemoteConnection } from './connection.js';
export type { KeepJobs, RemoteCommonOptions } from './options.js';
export type { PortableModules } from './portable-codec.js';
