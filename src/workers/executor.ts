/**
 * Runs work: jobs claimed from the shared queue or pinned to this worker (REC_JOB), and member calls
 * (REC_INVOKE). Each is decoded (or, when its class's module or a buffer must arrive first, decoded later
 * from a private copy), run with its runtime bound, and its outcome written as one REC_OK or REC_ERR
 * record after its last report. Synchronous work finishes inside the turn that took it; async work
 * finishes in a promise callback, which publishes at once and wakes the loop.
 */
import { withoutUnsendableResults } from '../shared/batch-chunk.js';
import { WorkgroupException } from '../shared/errors.js';
import { bindRuntime, unbindRuntime } from '../shared/job.js';
import { DecodeSuspend } from '../codec/errors.js';
import { KIND_ARENA, type JobQueueConsumer } from '../ring/job-queue.js';
import { ORIGIN_FLAG_INTERNAL, ORIGIN_INSTANCE, ORIGIN_JOB, REC_ERR, REC_OK } from '../ring/protocol.js';
import type { MemberHost } from './member-host.js';
import type { ResultWriter } from './result-writer.js';
import type { RunSlots } from './run-slots.js';
import type { Running } from './running.js';
import { epochNow, type WorkerContext } from './worker-context.js';
import { BODY_TWO_WORDS, LANE_JOB_HEAD, R_ID, R_SECOND, R_TIME, readF64, readWord } from '../ring/records.js';
import { plainError } from './worker-codec.js';

type Kind = 'job' | 'invoke';

export class Executor {
  readonly #ctx: WorkerContext;
  readonly #slots: RunSlots;
  readonly #writer: ResultWriter;
  readonly #members: MemberHost;

  constructor(ctx: WorkerContext, slots: RunSlots, writer: ResultWriter, members: MemberHost) {
    this.#ctx = ctx;
    this.#slots = slots;
    this.#writer = writer;
    this.#members = members;
  }

  /**
   * Takes the job in the queue cell `q` just claimed: records it as running, decodes it and releases the
   * cell. Returns the step that runs it (user code), to be called outside the claim's fence bracket, or
   * undefined when there is nothing to run now.
   */
  takeQueued(q: JobQueueConsumer): (() => void) | undefined {
    const ctx = this.#ctx;
    const id = q.jobId;
    if (id === 0) {
      q.release(); // cancelled by main while queued
      return undefined;
    }
    const r = this.#slots.begin(id); // recorded as running before the cell is released
    ctx.hist.wait(epochNow() - q.enqueueTime);
    let job: unknown;
    try {
      if (q.kind === KIND_ARENA) {
        const view = ctx.arena.viewOf({ offset: q.arenaOffset, generation: q.arenaGen }, q.length);
        job = ctx.codec.decode(view, 0, q.length);
      } else {
        job = ctx.codec.decode(q.u8, q.payloadOffset, q.payloadOffset + q.length);
      }
    } catch (e) {
      if (e instanceof DecodeSuspend) {
        const bytes = q.kind === KIND_ARENA
          ? ctx.arena.viewOf({ offset: q.arenaOffset, generation: q.arenaGen }, q.length).slice()
          : q.u8.slice(q.payloadOffset, q.payloadOffset + q.length);
        q.release();
        return () => this.#runLater(r, bytes, 'job');
      }
      q.release();
      return () => this.#finish(r, ORIGIN_JOB | ORIGIN_FLAG_INTERNAL, e, false);
    }
    q.release();
    return () => this.#execute(r, job);
  }

  /** A REC_JOB record (u32 id, u32 pad, f64 enqueue time, job). Pinned jobs are accepted beyond
   *  `concurrency`: they were sent to this worker on purpose. */
  startPinned(u8: Uint8Array, off: number, len: number): void {
    const id = readWord(u8, off + R_ID);
    const enqueued = readF64(u8, off + R_TIME);
    const r = this.#slots.begin(id);
    this.#ctx.hist.wait(epochNow() - enqueued);
    this.#decodeThen(r, u8, off + LANE_JOB_HEAD, off + len, 'job', 0);
  }

  /** Lane work main cancelled before it started: not run; an error record tells main to forget it. */
  skipped(id: number, job: boolean): void {
    const origin = (job ? ORIGIN_JOB : ORIGIN_INSTANCE) | ORIGIN_FLAG_INTERNAL;
    this.#writer.write(REC_ERR, [id, origin], new Error('cancelled before it started'), 'error');
  }

  /** A REC_INVOKE record (u32 id, u32 member id, command). */
  startInvoke(u8: Uint8Array, off: number, len: number): void {
    const id = readWord(u8, off + R_ID);
    const memberId = readWord(u8, off + R_SECOND);
    const r = this.#slots.begin(id);
    this.#decodeThen(r, u8, off + BODY_TWO_WORDS, off + len, 'invoke', memberId);
  }

  #decodeThen(r: Running, u8: Uint8Array, start: number, end: number, kind: Kind, memberId: number): void {
    let value: unknown;
    try {
      value = this.#ctx.codec.decode(u8, start, end);
    } catch (e) {
      if (e instanceof DecodeSuspend) {
        this.#runLater(r, u8.slice(start, end), kind, memberId);
        return;
      }
      this.#finish(r, (kind === 'job' ? ORIGIN_JOB : ORIGIN_INSTANCE) | ORIGIN_FLAG_INTERNAL, e, false);
      return;
    }
    if (kind === 'job') this.#execute(r, value);
    else this.#invoke(r, memberId, value);
  }

  /** Decodes a private copy once its module or buffer is there, then runs it. */
  #runLater(r: Running, bytes: Uint8Array, kind: Kind, memberId = 0): void {
    const ctx = this.#ctx;
    ctx.track(ctx.codec.decodeAsync(bytes)).then(
      (value) => {
        if (kind === 'job') this.#execute(r, value);
        else this.#invoke(r, memberId, value);
        this.#writer.flush();
      },
      (error) => {
        this.#finish(r, (kind === 'job' ? ORIGIN_JOB : ORIGIN_INSTANCE) | ORIGIN_FLAG_INTERNAL, error, false);
        this.#writer.flush();
      },
    );
  }

  #execute(r: Running, job: unknown): void {
    if (job === null || typeof job !== 'object' || typeof (job as { execute?: unknown }).execute !== 'function') {
      this.#finish(r, ORIGIN_JOB | ORIGIN_FLAG_INTERNAL, new TypeError('the dispatched object has no execute() method'), false);
      return;
    }
    bindRuntime(job, r);
    let out: unknown;
    try {
      out = (job as { execute(): unknown }).execute();
    } catch (e) {
      unbindRuntime(job);
      this.#finish(r, ORIGIN_JOB, e, false);
      return;
    }
    if (isThenable(out)) {
      this.#ctx.track(out).then(
        (v) => this.#settleAsync(r, job, ORIGIN_JOB, v, true),
        (e) => this.#settleAsync(r, job, ORIGIN_JOB, e, false),
      );
      return;
    }
    unbindRuntime(job);
    this.#finish(r, ORIGIN_JOB, out, true);
  }

  #settleAsync(r: Running, target: object, origin: number, value: unknown, ok: boolean): void {
    unbindRuntime(target);
    if (r.done) return;
    this.#finish(r, origin, value, ok);
    this.#writer.flush();
  }

  #invoke(r: Running, memberId: number, command: unknown): void {
    const member = this.#members.get(memberId);
    if (!member) {
      this.#finish(r, ORIGIN_INSTANCE | ORIGIN_FLAG_INTERNAL, new Error(`member ${memberId} is not registered on this worker`), false);
      return;
    }
    r.transfers = member.transfers;
    let out: unknown;
    try {
      out = member.instance.handle(command);
    } catch (e) {
      this.#finish(r, ORIGIN_INSTANCE, e, false);
      return;
    }
    if (isThenable(out)) {
      this.#ctx.track(out).then(
        (v) => this.#settleMember(r, v, true),
        (e) => this.#settleMember(r, e, false),
      );
      return;
    }
    this.#finish(r, ORIGIN_INSTANCE, out, true);
  }

  #settleMember(r: Running, value: unknown, ok: boolean): void {
    if (r.done) return;
    this.#finish(r, ORIGIN_INSTANCE, value, ok);
    this.#writer.flush();
  }

  #tryWrite(id: number, value: unknown, running: Running): boolean {
    try {
      this.#writer.write(REC_OK, [id], value, 'result', running.transfers);
      return true;
    } catch {
      return false;
    }
  }

  /** Writes the result (or error) of `running` after its last report, and frees its running word. */
  #finish(running: Running, origin: number, value: unknown, ok: boolean): void {
    if (running.done) return;
    running.done = true;
    const ctx = this.#ctx;
    if (ctx.fence.closed) return; // closed by main: it settles this work itself, this slot may be another worker's
    const writer = this.#writer;
    const id = running.id;
    ctx.hist.run(performance.now() - running.started);
    if (running.coalesced !== undefined) writer.writeCoalesced(running, true); // the last report, before the result
    if (ok) {
      try {
        writer.write(REC_OK, [id], value, 'result', running.transfers);
      } catch (e) {
        // A settled batch chunk: only its jobs whose results cannot be sent fail; the others keep theirs.
        const repaired = withoutUnsendableResults(value, (v) => ctx.codec.unsendableReason(v));
        if (repaired !== undefined && this.#tryWrite(id, repaired, running)) {
          ctx.control.countFinished(true);
          this.#slots.end(running);
          return;
        }
        // The user code ran and returned something that cannot be sent: its error (routed like one it
        // threw), saying so — not an internal failure, which main would word "could not run the job".
        ok = false;
        const what = (origin & 0xff) === ORIGIN_INSTANCE ? 'the member call ran' : 'the job ran';
        value = new WorkgroupException(`${what}, but its result could not be sent: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (!ok) {
      try {
        writer.write(REC_ERR, [id, origin], value, 'error');
      } catch (e) {
        writer.write(REC_ERR, [id, origin | ORIGIN_FLAG_INTERNAL], plainError(e), 'error');
      }
    }
    ctx.control.countFinished(ok);
    this.#slots.end(running);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}
