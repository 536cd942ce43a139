// isolate-workgroup's side of the benchmark work: a work module with one job class per task.
import { WorkgroupJob, WorkgroupMember, WorkerCommand } from 'isolate-workgroup';
import { barrier, inc, spin } from './tasks.mjs';

export class Inc extends WorkgroupJob {
  constructor(x) {
    super();
    this.x = x;
  }
  execute() {
    return inc(this.x);
  }
}

export class Spin extends WorkgroupJob {
  constructor(us, id) {
    super();
    this.us = us;
    this.id = id;
  }
  execute() {
    return spin(this.us, this.id);
  }
}

export class Barrier extends WorkgroupJob {
  constructor(sab, parties) {
    super();
    this.sab = sab;
    this.parties = parties;
  }
  execute() {
    return barrier(this.sab, this.parties);
  }
}

export class Increment extends WorkerCommand {}

/** A member holding a counter: every Increment returns the new count. */
export class Counter extends WorkgroupMember {
  constructor() {
    super();
    this.count = 0;
  }
  handle(command) {
    if (command instanceof Increment) return (this.count += 1);
    throw new TypeError('Counter: unknown command');
  }
}
