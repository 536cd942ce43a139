// Work module of the browser benchmark: the tiny job both pools run (a + b).
import { WorkgroupJob } from '../../dist/index.browser.js';

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
