/**
 * The machine side: `serveWorkgroup` takes jobs from a BullMQ queue and runs them on a local
 * `IsolateWorkgroup`, one BullMQ Worker per machine process.
 *
 * Per job: decode the frame (an unknown class or a foreign frame fails that job, never the server, and is
 * not retried), `dispatch` it locally with the job's timeout and an AbortSignal, send progress through
 * BullMQ (coalesced: while one update is on its way, only the latest newer value waits), wait for the
 * last progress update, then return the encoded result (BullMQ stores it and emits `completed`). An error
 * is encoded into the failure text (see wire.ts); BullMQ retries it while `attempts` remain.
 *
 * Delivery is at least once: when a machine dies mid-job, its job's lock expires and BullMQ's stalled-job
 * check (run by the other machines) puts the job back in the queue; it runs again elsewhere.
 * Cancellation: a producer that aborts a running job publishes its id on `<prefix>:<queue>:iwg-cancel`;
 * the machine running it aborts the local dispatch (`this.signal` in the job) and fails the job for good.
 */
import { availableParallelism, hostname } from 'node:os';
import type { Job, Worker, WorkerOptions } from 'bullmq';
import { IsolateWorkgroup } from '../api/node-workgroup.js';
import type { WorkgroupConfig } from '../api/config.js';
import { WorkgroupException, WorkgroupJobAbortedException } from '../api/errors.js';
import { UnsendableError } from '../codec/errors.js';
import { bullConnection, checkConnection, loadBullMQ, openClient, withDeadline } from './connection.js';
import { checkLogger, checkQueueName, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_LIMIT, optionalNumber, type RemoteCommonOptions } from './options.js';
import { normalizeModules, PortableCodec } from './portable-codec.js';
import { failureText, WIRE_VERSION, type WireJobData } from './wire.js';

/** BullMQ Worker options passed through (lock and stalled-job timing, rate limits, metrics, …). */
export type ServeWorkerOptions = Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency' | 'autorun' | 'name'>;

export interface ServeWorkgroupOptions extends RemoteCommonOptions {
  /** Your own workgroup (listing the same modules); launched here if idle, never shut down here. */
  readonly workgroup?: IsolateWorkgroup;
  /** Workers of the workgroup created here (when `workgroup` is not given). Default: the machine's cores. */
  readonly workerCount?: number;
  /** Config of the workgroup created here; its `modules` are the work modules above. */
  readonly workgroupConfig?: Omit<WorkgroupConfig, 'modules'>;
  /** Jobs this machine holds at once. Default: twice the workgroup's workers, so a worker that finishes finds
   *  its next job already here instead of waiting for a round trip to Redis. */
  readonly concurrency?: number;
  /** This machine's name in errors and in BullMQ (the job's `processedBy`). Default `<hostname>:<pid>`. */
  readonly name?: string;
  /** Passed to BullMQ's Worker: `lockDuration`, `stalledInterval`, `maxStalledCount`, `limiter`, … */
  readonly workerOptions?: ServeWorkerOptions;
}

export interface ServeCloseOptions {
  /** Abort the jobs this machine is running and put them back in the queue at once, instead of letting
   *  them finish. Default false. */
  readonly handBack?: boolean;
}

export interface WorkgroupServer {
  /** The BullMQ Worker: health and activity through its own events (`ready`, `active`, `completed`,
   *  `failed`, `stalled`, `error`, `closed`) and methods (`pause`, `resume`, `isRunning`). */
  readonly worker: Worker;
  /** The local workgroup running the jobs. */
  readonly workgroup: IsolateWorkgroup;
  /** This machine's name. */
  readonly name: string;
  /** Jobs held right now. */
  readonly activeCount: number;
  /** Takes no new jobs; finishes (or, with `handBack`, returns to the queue) the ones held; closes the
   *  connections and the workgroup created here. */
  close(options?: ServeCloseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Active {
  readonly controller: AbortController;
  handBack: boolean;
  cancelled: boolean;
}

/** A job that returned an array on the workgroup's shared memory (`this.allocate`) cannot send it across
 *  machines: give the block back instead of leaking it (the job then fails, saying to return a copy). */
function releaseShared(wg: IsolateWorkgroup, result: unknown): void {
  if (!ArrayBuffer.isView(result) || !(result.buffer instanceof SharedArrayBuffer)) return;
  try {
    wg.release(result);
  } catch {
    // not the workgroup's shared memory (a SharedArrayBuffer of the job's own): nothing to give back
  }
}

/** Starts serving; resolves once connected and the workgroup is ready. Rejects with
 *  RemoteUnreachableException when Redis does not answer within `connectTimeoutMs`. */
export async function serveWorkgroup(options: ServeWorkgroupOptions): Promise<WorkgroupServer> {
  if (options === null || typeof options !== 'object') throw new TypeError('expected serveWorkgroup options ({ connection, queue, modules }), got ' + (options === null ? 'null' : typeof options));
  const connection = checkConnection(options.connection);
  const queueName = checkQueueName(options.queue);
  const prefix = options.prefix ?? 'bull';
  if (typeof prefix !== 'string' || prefix === '') throw new TypeError(`expected \`prefix\` to be a non-empty string, got ${String(prefix)}`);
  const codec = new PortableCodec(normalizeModules(options.modules));
  optionalNumber(options.connectTimeoutMs, 'connectTimeoutMs', 1, 2 ** 31 - 1, false);
  optionalNumber(options.maxPayloadBytes, 'maxPayloadBytes', 1, MAX_PAYLOAD_LIMIT, true);
  optionalNumber(options.concurrency, 'concurrency', 1, 100_000, true);
  optionalNumber(options.workerCount, 'workerCount', 1, 256, true);
  if (options.workgroup !== undefined && !(options.workgroup instanceof IsolateWorkgroup)) throw new TypeError('expected `workgroup` to be an IsolateWorkgroup');
  if (options.workgroup !== undefined && (options.workerCount !== undefined || options.workgroupConfig !== undefined)) {
    throw new TypeError('give either `workgroup` or `workerCount`/`workgroupConfig`, not both');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '' || options.name.includes(']'))) throw new TypeError(`expected \`name\` to be a non-empty string without ']', got ${String(options.name)}`);
  const logger = checkLogger(options.logger);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const maxPayload = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const log = (level: 'warn' | 'error', message: string, e: unknown) => logger?.[level]?.(`isolate-workgroup/bullmq (${name}): ${message}`, e);

  const [bull] = await Promise.all([loadBullMQ(), codec.load()]);
  const subscriber = await openClient(connection, timeoutMs);
  subscriber.on('error', (e: unknown) => log('warn', 'Redis connection error (cancellations)', e));
  const ownWorkgroup = options.workgroup === undefined;
  let wg: IsolateWorkgroup | undefined;
  let worker: Worker | undefined;
  try {
    wg = options.workgroup ?? new IsolateWorkgroup(options.workerCount ?? availableParallelism(), { ...options.workgroupConfig, modules: codec.moduleUrls() });
    if (wg.state === 'idle') await wg.launch();
    const active = new Map<string, Active>();
    const cancelChannel = `${prefix}:${queueName}:iwg-cancel`;
    await withDeadline(subscriber.subscribe(cancelChannel), connection, timeoutMs, 'subscribing to cancellations');
    subscriber.on('message', (channel: string, jobId: string) => {
      const a = channel === cancelChannel ? active.get(jobId) : undefined;
      if (a && !a.cancelled) {
        a.cancelled = true;
        a.controller.abort(new WorkgroupJobAbortedException(`job ${jobId} was cancelled by its producer`));
      }
    });
    const local = wg;
    const encodeError = (e: unknown): string => {
      try {
        return codec.encode(e, 'error');
      } catch (inner) {
        return codec.encode(new WorkgroupException(`the job threw a value that cannot be sent (${(inner as Error).message})`), 'error');
      }
    };
    const fail = (e: unknown, Ctor: new (message: string) => Error = Error): Error => {
      let frame = encodeError(e);
      if (frame.length > maxPayload) frame = encodeError(new WorkgroupException(`${e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 1000) : 'the error'} (its full form was ${frame.length} bytes encoded, over maxPayloadBytes)`));
      return new Ctor(failureText(e, name, frame));
    };

    const processor = async (job: Job, token?: string): Promise<string> => {
      const data = job.data as Partial<WireJobData> | null;
      let value: unknown;
      try {
        if (data === null || typeof data !== 'object' || data.v !== WIRE_VERSION || typeof data.f !== 'string') {
          throw new Error(`job ${job.id} was not sent by RemoteWorkgroup of this version (expected data { v: ${WIRE_VERSION}, f: <frame> })`);
        }
        value = codec.decode(data.f);
      } catch (e) {
        throw fail(new WorkgroupException(`machine ${name} could not read job ${job.id}: ${(e as Error).message}`, { cause: e }), bull.UnrecoverableError);
      }
      const id = String(job.id);
      const entry: Active = { controller: new AbortController(), handBack: false, cancelled: false };
      active.set(id, entry);
      // Progress: one update on its way at a time; newer values wait, only the latest is kept.
      let latest: { value: unknown } | undefined;
      let pumping: Promise<void> | undefined;
      const pump = async () => {
        while (latest) {
          const { value: v } = latest;
          latest = undefined;
          let text: string;
          try {
            text = codec.encode(v, 'progress');
          } catch (e) {
            log('warn', `a progress value of job ${id} cannot be sent`, e);
            continue;
          }
          await job.updateProgress(text).catch((e: unknown) => log('warn', `progress of job ${id} not sent`, e));
        }
        pumping = undefined;
      };
      const onProgress = (v: unknown) => {
        latest = { value: v };
        pumping ??= pump();
      };
      try {
        const result = await local.dispatch(value as never, { signal: entry.controller.signal, timeout: data!.t, onProgress });
        await pumping;
        let text: string;
        try {
          text = codec.encode(result, 'result');
        } catch (e) {
          releaseShared(local, result);
          const msg = e instanceof UnsendableError ? e.message : String(e);
          throw fail(new WorkgroupException(`the job ran on machine ${name}, but its result could not be sent: ${msg}`, { cause: e }), bull.UnrecoverableError);
        }
        if (text.length > maxPayload) {
          throw fail(new WorkgroupException(`the job ran on machine ${name}, but its result is ${text.length} bytes once encoded, over \`maxPayloadBytes\` (${maxPayload})`), bull.UnrecoverableError);
        }
        return text;
      } catch (e) {
        await pumping;
        if (e instanceof bull.UnrecoverableError) throw e;
        if (entry.handBack) {
          await job.moveToWait(token);
          throw new bull.WaitingError();
        }
        if (entry.cancelled) throw fail(entry.controller.signal.reason, bull.UnrecoverableError);
        throw fail(e);
      } finally {
        active.delete(id);
      }
    };

    const concurrency = options.concurrency ?? Math.max(1, local.liveIsolateCount * 2);
    worker = new bull.Worker(queueName, processor, {
      ...options.workerOptions,
      connection: bullConnection(connection) as never,
      prefix,
      concurrency,
      name,
      autorun: true,
    });
    worker.on('error', (e: unknown) => log('warn', 'BullMQ worker error', e));
    await withDeadline(worker.waitUntilReady(), connection, timeoutMs, 'starting the BullMQ worker');
    const w = worker;
    let closing: Promise<void> | undefined;
    const close = (closeOptions: ServeCloseOptions = {}): Promise<void> => {
      if (closeOptions.handBack) {
        for (const a of active.values()) {
          a.handBack = true;
          a.controller.abort(new WorkgroupJobAbortedException('the machine is shutting down: the job goes back to the queue'));
        }
      }
      closing ??= (async () => {
        await w.close();
        subscriber.disconnect();
        if (ownWorkgroup) await local.shutdown();
      })();
      return closing;
    };
    return {
      worker: w,
      workgroup: local,
      name,
      get activeCount() {
        return active.size;
      },
      close,
      [Symbol.asyncDispose]: () => close(),
    };
  } catch (e) {
    subscriber.disconnect();
    await worker?.close(true).catch(() => {});
    if (ownWorkgroup) await wg?.shutdown().catch(() => {});
    throw e;
  }
}

