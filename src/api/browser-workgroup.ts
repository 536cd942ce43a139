/** The browser `IsolateWorkgroup`: the public class bound to the Web Worker platform. */
import { browserPlatform } from '../workers/browser-platform.js';
import type { WorkgroupConfig } from './config.js';
import { IsolateWorkgroup as BaseWorkgroup } from './workgroup.js';

export class IsolateWorkgroup extends BaseWorkgroup {
  /**
   * Creates a workgroup of `workerCount` workers (0..256). Spawns nothing until `launch()`.
   * Throws when the page is not cross-origin isolated (the message names the two headers to send), and
   * TypeError/RangeError for a bad option, naming it.
   */
  constructor(workerCount: number, config?: WorkgroupConfig) {
    super(workerCount, config, browserPlatform);
  }
}
