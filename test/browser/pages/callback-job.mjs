// A CallbackWorkgroup job for the browser tests: found through `static module` (no `modules` list).
import { CallbackWorkgroupJob } from '../../../dist/index.browser.js';

export class Countdown extends CallbackWorkgroupJob {
  static module = import.meta.url;

  constructor(synchronous, from) {
    super(synchronous);
    this.from = from;
  }

  executeSync() {
    for (let i = this.from; i > 0; i--) this.report(i);
    return 'liftoff';
  }

  async executeAsync() {
    await null;
    if (this.from < 0) throw new RangeError(`cannot count down from ${this.from}`);
    return this.executeSync();
  }
}
