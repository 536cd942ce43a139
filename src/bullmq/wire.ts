/**
 * What a job looks like inside BullMQ, and how a failure travels back. Both sides use these helpers, so
 * the format lives in one place.
 *
 * | BullMQ field    | content                                                                              |
 * |-----------------|--------------------------------------------------------------------------------------|
 * | job name        | the job's portable class id (`work#Render`), for dashboards; not read by machines     |
 * | job data        | `{ v: 1, f: <frame>, t?: timeout ms }`; the frame (portable-codec.ts) holds the job  |
 * | progress        | `<frame>` of the value passed to `this.report(value)` (the latest, when coalesced)   |
 * | return value    | `<frame>` of the result                                                              |
 * | failedReason    | `<Class>: <message>` (what a dashboard shows), a newline, then `FAILURE_MARK`, the   |
 * |                 | machine's name in brackets, a space and the `<frame>` of the error                   |
 */
import { WorkgroupException } from '../api/errors.js';

export const WIRE_VERSION = 1;
export const FAILURE_MARK = '--isolate-workgroup-error--';

export interface WireJobData {
  readonly v: number;
  readonly f: string;
  readonly t?: number;
}

export function failureText(error: unknown, machine: string, frame: string | undefined): string {
  const head = error instanceof Error ? `${error.name}: ${error.message}` : `thrown value: ${String(error)}`;
  return frame === undefined ? head : `${head}\n${FAILURE_MARK}[${machine}] ${frame}`;
}

export function parseFailure(failedReason: string): { head: string; machine: string; frame: string } | undefined {
  const at = failedReason.lastIndexOf(`\n${FAILURE_MARK}[`);
  if (at < 0) return undefined;
  const rest = failedReason.slice(at + FAILURE_MARK.length + 2);
  const close = rest.indexOf('] ');
  if (close < 0) return undefined;
  return { head: failedReason.slice(0, at), machine: rest.slice(0, close), frame: rest.slice(close + 2) };
}

/**
 * Marks the stack of an error that came from a machine, so it reads like a local one with the remote
 * side named:
 *
 *     TypeError: bad input
 *     === Stack trace in worker on machine host:1234 (where the error was thrown) ===
 *         at Parse.execute (file:///srv/app/work.js:12:11)
 *     === Stack trace in main on machine host:1234 ===
 *         at …
 *     === Stack trace in producer (where the call was made) ===
 *         at main (file:///app/main.js:8:20)
 */
export function markRemoteStack(error: unknown, machine: string, producerStack: string | undefined): void {
  if (!(error instanceof Error)) return;
  let own = typeof error.stack === 'string' ? error.stack : `${error.name}: ${error.message}`;
  if (own.includes('=== Stack trace in worker (')) {
    own = own
      .replace('=== Stack trace in worker (', `=== Stack trace in worker on machine ${machine} (`)
      .replace(/=== Stack trace in main \(where the call was made\) ===/, `=== Stack trace in main on machine ${machine} ===`);
  } else {
    const lines = own.split('\n');
    let first = lines.findIndex((l) => /^\s+at /.test(l));
    if (first < 0) first = lines.length;
    own = `${lines.slice(0, first).join('\n')}\n=== Stack trace on machine ${machine} ===\n${lines.slice(first).join('\n')}`;
  }
  const frames = (producerStack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).join('\n');
  try {
    Object.defineProperty(error, 'stack', {
      value: `${own.replace(/\n+$/, '')}\n=== Stack trace in producer (where the call was made) ===\n${frames}`,
      configurable: true,
      writable: true,
    });
  } catch {
    // a frozen error keeps its own stack
  }
}

/** An error for a failure that carries no encoded error (BullMQ's own, or a plain BullMQ worker's). */
export function plainFailure(jobId: string, failedReason: string): WorkgroupException {
  return new WorkgroupException(`job ${jobId} failed in the queue: ${failedReason}`);
}
