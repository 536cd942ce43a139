/**
 * Paths of refused values. The encoder does not track a path while it works (that would cost on every
 * value); a refusal throws a `Refusal`, and each container it unwinds through adds its segment. The
 * segments read like the JavaScript expression that reaches the value:
 *
 * | container            | segment                          | example                          |
 * |----------------------|----------------------------------|----------------------------------|
 * | object / instance    | `.key`, or `["key"]` if not an identifier | `job.options.onDone`, `job.o["a b"]` |
 * | array                | `[i]`                            | `job.list[3]`                    |
 * | Map value            | `.get(key)` for a primitive key  | `job.m.get("k")`, `job.m.get(2)` |
 * | Map value, object key| `.values()[i]` (i-th entry)      | `job.m.values()[0]`              |
 * | Map key              | `.keys()[i]` (i-th entry)        | `job.m.keys()[1]`                |
 * | Set item             | `.values()[i]` (i-th item)       | `job.s.values()[2]`              |
 * | Error fields         | `.cause`, `.errors`, `.message`… | `result.cause.handle`            |
 * | typed array buffer   | `.buffer`                        |                                  |
 */
import { UnsendableError } from './errors.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const MAX_SEGMENTS = 24;
const KEEP_SEGMENTS = 8;

export class Refusal extends Error {
  readonly reason: string;
  readonly segments: string[] = [];

  /** `reason` continues the sentence "<path> …", e.g. "is a function: functions cannot be sent …". */
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }

  /** The error for the caller. Paths of more than MAX_SEGMENTS segments (a refusal of deep nesting) keep
   *  their first and last segments around a count of the elided ones. */
  toUnsendable(rootName: string): UnsendableError {
    const outerFirst = this.segments.slice().reverse();
    const parts =
      outerFirst.length <= MAX_SEGMENTS
        ? outerFirst
        : [...outerFirst.slice(0, KEEP_SEGMENTS), `…(${outerFirst.length - 2 * KEEP_SEGMENTS} more)…`, ...outerFirst.slice(-KEEP_SEGMENTS)];
    const path = rootName + parts.join('');
    return new UnsendableError(path, `${path} ${this.reason}`);
  }
}

export function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

export function indexSegment(i: number): string {
  return `[${i}]`;
}

/** Segment for the value stored under `key` (the `index`-th entry) of a Map. */
export function mapValueSegment(key: unknown, index: number): string {
  switch (typeof key) {
    case 'string':
      return `.get(${JSON.stringify(key)})`;
    case 'number':
      return `.get(${Object.is(key, -0) ? '-0' : String(key)})`;
    case 'bigint':
      return `.get(${key}n)`;
    case 'boolean':
    case 'undefined':
      return `.get(${String(key)})`;
    default:
      return key === null ? '.get(null)' : `.values()[${index}]`;
  }
}

export function mapKeySegment(index: number): string {
  return `.keys()[${index}]`;
}

export function setItemSegment(index: number): string {
  return `.values()[${index}]`;
}

/** Adds `segment` to a refusal unwinding through a container; rethrows anything else untouched. */
export function addSegment(e: unknown, segment: string): never {
  if (e instanceof Refusal) e.segments.push(segment);
  throw e;
}
