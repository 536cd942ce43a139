/**
 * Options of both sides, their defaults, and their checks: bad options throw TypeError/RangeError naming
 * the option and the value (`expected \`timeout\` to be a number > 0, got -1`).
 */
import type { WorkgroupLogger } from '../api/config.js';
import type { RemoteConnection } from './connection.js';
import type { PortableModules } from './portable-codec.js';

/** How long finished jobs stay in Redis (BullMQ's `removeOnComplete` / `removeOnFail`). */
export interface KeepJobs {
  /** Seconds after finishing. */
  readonly age?: number;
  /** At most this many of the newest. */
  readonly count?: number;
}

export interface RemoteCommonOptions {
  /** Where Redis is: ioredis options or an ioredis client. */
  readonly connection: RemoteConnection;
  /** BullMQ queue name; producer and machines use the same. */
  readonly queue: string;
  /** Work modules by portable name, the same names on the producer and every machine. */
  readonly modules: PortableModules;
  /** BullMQ key prefix. Default `'bull'`. */
  readonly prefix?: string;
  /** How long to wait for Redis at start (and for a command while it is down). Default 10000 ms. */
  readonly connectTimeoutMs?: number;
  /** Largest encoded job, result, progress value or error (base64 text), in bytes. Default 16 MiB. */
  readonly maxPayloadBytes?: number;
  /** Connection trouble and other errors nobody awaits (the library prints nothing by default). */
  readonly logger?: WorkgroupLogger;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Redis refuses strings over 512 MB; base64 text of a payload is 4/3 of its bytes. */
export const MAX_PAYLOAD_LIMIT = 512 * 1024 * 1024;
export const PRIORITY_LIMIT = 2 ** 21;

function got(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return value === null ? 'null' : typeof value;
}

export function checkNumber(value: unknown, name: string, min: number, max: number, integer: boolean): void {
  const ok = typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const Ctor = typeof value === 'number' ? RangeError : TypeError;
    throw new Ctor(`expected \`${name}\` to be ${integer ? 'an integer' : 'a number'} ${max === Infinity ? `>= ${min}` : `in ${min}..${max}`}, got ${got(value)}`);
  }
}

export function optionalNumber(value: unknown, name: string, min: number, max: number, integer: boolean): void {
  if (value !== undefined) checkNumber(value, name, min, max, integer);
}

export function checkQueueName(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes(':')) {
    throw new TypeError(`expected \`queue\` to be a non-empty string without ':', got ${got(value)}`);
  }
  return value;
}

export function checkKeep(value: unknown, name: string): KeepJobs | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw new TypeError(`expected \`${name}\` to be { age?: seconds, count?: number }, got ${got(value)}`);
  const k = value as KeepJobs;
  optionalNumber(k.age, `${name}.age`, 0, Infinity, true);
  optionalNumber(k.count, `${name}.count`, 0, Infinity, true);
  return k;
}

/** A job id the caller chose (BullMQ refuses ':' and integer-looking ids). */
export function checkJobId(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.includes(':') || `${Number.parseInt(value, 10)}` === value) {
    throw new TypeError(`expected \`jobId\` to be a non-empty string that is not an integer and has no ':' (e.g. "render-42"), got ${got(value)}`);
  }
  return value;
}

export function checkLogger(value: unknown): WorkgroupLogger | undefined {
  if (value === undefined) return undefined;
  const l = value as Partial<Record<string, unknown>> | null;
  if (l === null || typeof l !== 'object' || !['debug', 'info', 'warn', 'error'].every((k) => l[k] === undefined || typeof l[k] === 'function')) {
    throw new TypeError(`expected \`logger\` to be an object with debug, info, warn and error functions, got ${got(value)}`);
  }
  return value as WorkgroupLogger;
}
