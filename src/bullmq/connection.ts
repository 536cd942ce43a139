/**
 * Loading the optional peers (bullmq, ioredis) on first use, with errors that say what to install, and
 * the Redis connections this entry opens besides BullMQ's own (a command client on the producer, a
 * subscriber on each machine for cancellations), opened with a deadline and a clear error.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { WorkgroupException } from '../api/errors.js';

export type BullMQModule = typeof import('bullmq');

/** Where Redis is: ioredis options (`{ host, port, password, … }`) or an ioredis client (duplicated, never closed here). */
export type RemoteConnection = RedisOptions | Redis;

/** Redis could not be reached (at start, or within a command deadline). */
export class RemoteUnreachableException extends WorkgroupException {
  override name = 'RemoteUnreachableException';
  override readonly code = 'ERR_WORKGROUP_REMOTE_UNREACHABLE';
}

let bullmq: Promise<BullMQModule> | undefined;
type IORedisModule = { readonly Redis: typeof Redis };
let ioredis: Promise<IORedisModule> | undefined;

function missing(pkg: string, e: unknown): Error {
  return new WorkgroupException(
    `isolate-workgroup/bullmq needs the optional package "${pkg}", which could not be loaded: install it next to isolate-workgroup (npm install bullmq ioredis)`,
    { cause: e },
  );
}

export function loadBullMQ(): Promise<BullMQModule> {
  bullmq ??= import('bullmq').catch((e: unknown) => {
    bullmq = undefined;
    throw missing('bullmq', e);
  });
  return bullmq;
}

function loadIORedis(): Promise<IORedisModule> {
  ioredis ??= import('ioredis').then((m): IORedisModule => ({ Redis: m.Redis }), (e: unknown) => {
    ioredis = undefined;
    throw missing('ioredis', e);
  });
  return ioredis;
}

export function isClient(connection: RemoteConnection): connection is Redis {
  return typeof (connection as Redis).duplicate === 'function' && typeof (connection as Redis).sendCommand === 'function';
}

/** Validates `connection` (TypeError naming the option). */
export function checkConnection(connection: unknown): RemoteConnection {
  if (connection === null || typeof connection !== 'object') {
    throw new TypeError(`expected \`connection\` to be ioredis options ({ host: '127.0.0.1', port: 6379 }) or an ioredis client, got ${connection === null ? 'null' : typeof connection}`);
  }
  return connection as RemoteConnection;
}

export function describeConnection(connection: RemoteConnection): string {
  const o: RedisOptions = isClient(connection) ? connection.options : connection;
  if (typeof o.path === 'string') return o.path;
  return `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
}

/** The options BullMQ gets: the caller's client as is, or a copy of the options. */
export function bullConnection(connection: RemoteConnection): RemoteConnection {
  return isClient(connection) ? connection : { ...connection };
}

/**
 * Opens a client of our own (a duplicate of the caller's client, or a new one from the options) and
 * waits until it is ready; after `timeoutMs` it is closed and the promise rejects with
 * RemoteUnreachableException naming the address and the last connection error.
 */
export async function openClient(connection: RemoteConnection, timeoutMs: number, extra: RedisOptions = {}): Promise<Redis> {
  const { Redis: RedisCtor } = await loadIORedis();
  // A short disconnectTimeout: ioredis arms it on disconnect() and waits for a 'close' that a socket which
  // never connected does not emit again, which would keep the process alive for 2 s after a failed start.
  const own: RedisOptions = { disconnectTimeout: 100, ...extra };
  const client = isClient(connection) ? connection.duplicate(own) : new RedisCtor({ ...connection, ...own, lazyConnect: false });
  let lastError: unknown;
  const onError = (e: unknown) => {
    lastError = e;
  };
  client.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      if (client.status === 'ready') return resolve();
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        reject(unreachable(connection, timeoutMs, lastError));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', onReady);
    });
  } catch (e) {
    client.disconnect();
    throw e;
  }
  return client;
}

export function unreachable(connection: RemoteConnection, timeoutMs: number, cause: unknown): RemoteUnreachableException {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return new RemoteUnreachableException(
    `cannot reach Redis at ${describeConnection(connection)} within ${timeoutMs} ms${why}: start redis-server there, or fix \`connection\``,
    { cause },
  );
}

/** Races `promise` against a deadline; on expiry rejects with RemoteUnreachableException. */
export function withDeadline<T>(promise: Promise<T>, connection: RemoteConnection, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new RemoteUnreachableException(`${what}: Redis at ${describeConnection(connection)} did not answer within ${timeoutMs} ms (is it down?)`));
    }, timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
