// Work module of the runtime suite (test/runtimes/suite.mjs). Every worker imports it. It imports the
// library through the entry the suite runs: `?entry=browser` on this module's URL picks the browser entry
// (the suite imports this module by the same URL its workers do, so both see one WorkgroupJob).
const browser = new URL(import.meta.url).searchParams.get('entry') === 'browser';
const lib = await import(new URL(browser ? '../../dist/index.browser.js' : '../../dist/index.js', import.meta.url).href);
const { WorkgroupJob, WorkgroupMember, WorkerCommand } = lib;

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

/** Returns what it was given (the round trip of rich values). */
export class Echo extends WorkgroupJob {
  constructor(value) {
    super();
    this.value = value;
  }
  execute() {
    return this.value;
  }
}

export class WhereAmI extends WorkgroupJob {
  execute() {
    return this.isolateIndex;
  }
}

export class ValidationError extends Error {
  constructor(message, field) {
    super(message);
    this.name = 'ValidationError';
    this.field = field;
  }
}

export class Fail extends WorkgroupJob {
  execute() {
    throw new ValidationError('bad e-mail address', 'email');
  }
}

export class Progress extends WorkgroupJob {
  constructor(count) {
    super();
    this.count = count;
  }
  execute() {
    for (let i = 1; i <= this.count; i++) this.report(i);
    return 'finished';
  }
}

/** Sums a Float64Array and doubles its first element in place (main sees the change: no copy). */
export class SumAndMark extends WorkgroupJob {
  constructor(data) {
    super();
    this.data = data;
  }
  execute() {
    const d = this.data;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i];
    d[0] = -1;
    return { sum: s, shared: d.buffer instanceof SharedArrayBuffer };
  }
}

/** Busy for `ms` without yielding. */
export class Busy extends WorkgroupJob {
  constructor(ms) {
    super();
    this.ms = ms;
  }
  execute() {
    const end = performance.now() + this.ms;
    while (performance.now() < end);
    return this.ms;
  }
}

/**
 * Busy for `ms`, then marks word `i` of `flags` (an Int32Array on a SharedArrayBuffer): the mark says the
 * job ran to its end, so its result must be delivered.
 */
export class Marked extends WorkgroupJob {
  constructor(flags, i, ms) {
    super();
    this.flags = flags;
    this.i = i;
    this.ms = ms;
  }
  execute() {
    const end = performance.now() + this.ms;
    while (performance.now() < end);
    Atomics.store(this.flags, this.i, 1);
    return this.i;
  }
}

/** Starts a timer it does not await; the timer stores 1 into `cell[0]` and wakes its waiters. */
export class LeaveTimer extends WorkgroupJob {
  constructor(cell, ms) {
    super();
    this.cell = cell;
    this.ms = ms;
  }
  execute() {
    setTimeout(() => {
      Atomics.store(this.cell, 0, 1);
      Atomics.notify(this.cell, 0);
    }, this.ms);
    return 'scheduled';
  }
}

/** An async job: keeps the worker's event loop busy for `ms`. */
export class Sleep extends WorkgroupJob {
  constructor(ms) {
    super();
    this.ms = ms;
  }
  async execute() {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    return this.ms;
  }
}

/** Adds `by` to every element of a user SharedArrayBuffer's Int32Array (a buffer the worker has not seen). */
export class AddToShared extends WorkgroupJob {
  constructor(cells, by) {
    super();
    this.cells = cells;
    this.by = by;
  }
  execute() {
    for (let i = 0; i < this.cells.length; i++) Atomics.add(this.cells, i, this.by);
    return this.cells.length;
  }
}

export class Counter extends WorkgroupMember {
  constructor(start) {
    super();
    this.count = start;
  }
  handle(command) {
    if (command instanceof Increment) this.count += command.by;
    return this.count;
  }
}

export class Increment extends WorkerCommand {
  constructor(by) {
    super();
    this.by = by;
  }
}
