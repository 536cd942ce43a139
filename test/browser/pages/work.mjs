// Work module of the browser tests: every worker imports it (`modules`), and so does the page.
// It imports the library by the same URL as the worker entry's modules, so both see one WorkgroupJob.
import { WorkgroupJob, WorkgroupMember, WorkerCommand } from '../../../dist/index.browser.js';

export class Add extends WorkgroupJob {
  constructor(a, b) {
    super();
    this.a = a;
    this.b = b;
  }
  execute() {
    return this.a + this.b;
  }
}

/** Marks word `i` of `flags` when it has run to its end (its result must then be delivered). */
export class Marked extends WorkgroupJob {
  constructor(flags, i) {
    super();
    this.flags = flags;
    this.i = i;
  }
  execute() {
    Atomics.store(this.flags, this.i, 1);
    return this.i;
  }
}

export class WhereAmI extends WorkgroupJob {
  execute() {
    return this.isolateIndex;
  }
}

/** Returns its value with facts about it as seen in the worker (text travels both ways). */
export class EchoText extends WorkgroupJob {
  constructor(value) {
    super();
    this.value = value;
  }
  execute() {
    const v = this.value;
    return { value: v, length: typeof v === 'string' ? v.length : -1, codePoints: typeof v === 'string' ? [...v].length : -1 };
  }
}

/** A class whose exported name is not ASCII: its id travels through the shared class table. */
export class Grüße extends WorkgroupJob {
  constructor(wem) {
    super();
    this.wem = wem;
  }
  execute() {
    return `Grüße, ${this.wem}! ${this.constructor.name}`;
  }
}

export class ValidationError extends Error {
  constructor(message, field) {
    super(message);
    this.name = 'ValidationError';
    this.field = field;
  }
}

export class Throw extends WorkgroupJob {
  constructor(kind) {
    super();
    this.kind = kind;
  }
  execute() {
    if (this.kind === 'custom') throw new ValidationError('bad e-mail address ✉', 'email');
    if (this.kind === 'type') throw new TypeError('not a number');
    throw new Error('plain failure');
  }
}

export class ThrowInTimer extends WorkgroupJob {
  execute() {
    setTimeout(() => {
      throw new Error('boom from a timer');
    }, 5);
    return 'scheduled';
  }
}

export class Progress extends WorkgroupJob {
  constructor(count) {
    super();
    this.count = count;
  }
  execute() {
    for (let i = 1; i <= this.count; i++) this.report({ step: i, label: `Schritt ${i} ✓` });
    return 'finished';
  }
}

/** Busy for `ms` milliseconds without yielding (stops early when its signal is aborted). */
export class Busy extends WorkgroupJob {
  constructor(ms) {
    super();
    this.ms = ms;
  }
  execute() {
    const end = performance.now() + this.ms;
    while (performance.now() < end) {
      if (this.signal.aborted) return 'aborted';
    }
    return 'done';
  }
}

/** Busy for `ms` milliseconds and deaf to its signal: only terminating its worker stops it. */
export class Stubborn extends WorkgroupJob {
  constructor(ms) {
    super();
    this.ms = ms;
  }
  execute() {
    const end = performance.now() + this.ms;
    while (performance.now() < end);
    return 'stubborn done';
  }
}

/** Closes its own worker (a browser worker's `process.exit`): the workgroup must notice the death. */
export class CloseMyWorker extends WorkgroupJob {
  execute() {
    self.close();
    return new Promise(() => {});
  }
}

/** Doubles every element of a shared array in place; returns the element count it saw. */
export class DoubleInPlace extends WorkgroupJob {
  constructor(array) {
    super();
    this.array = array;
  }
  execute() {
    const a = this.array;
    for (let i = 0; i < a.length; i++) a[i] *= 2;
    return { length: a.length, shared: a.buffer instanceof SharedArrayBuffer };
  }
}

/** Fills a typed array allocated by the worker on the workgroup's shared memory and returns it. */
export class MakeSquares extends WorkgroupJob {
  constructor(n) {
    super();
    this.n = n;
  }
  execute() {
    const out = this.allocate(Float64Array, this.n);
    for (let i = 0; i < this.n; i++) out[i] = i * i;
    return out;
  }
}

export class Get extends WorkerCommand {}
export class Increment extends WorkerCommand {
  constructor(by = 1) {
    super();
    this.by = by;
  }
}
export class Ask extends WorkerCommand {
  constructor(question) {
    super();
    this.question = question;
  }
}

export class Counter extends WorkgroupMember {
  constructor(start = 0) {
    super();
    this.count = start;
    this.setupRan = false;
  }
  setup() {
    this.setupRan = true;
  }
  handle(command) {
    if (command instanceof Increment) return (this.count += command.by);
    if (command instanceof Get) return { count: this.count, setupRan: this.setupRan, where: this.isolateIndex };
    if (command instanceof Ask) return this.notifyHost(command);
    throw new TypeError(`unknown command ${command?.constructor?.name}`);
  }
  dispose() {
    globalThis.__disposedCounters = (globalThis.__disposedCounters ?? 0) + 1;
  }
}

export class DisposedCount extends WorkgroupJob {
  execute() {
    return globalThis.__disposedCounters ?? 0;
  }
}
