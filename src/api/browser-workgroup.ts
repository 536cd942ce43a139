/** The browser `IsolateWorkgroup`: the public class bound to the Web Worker platform. */
import { browserPlatform } from '../workers/browser-platform.js';
import type { WorkgroupConfig } from './config.js';
import { IsolateWorkgroup as BaseWorkgroup, countAndConfig } from './workgroup.js';

export class IsolateWorkgroup extends BaseWorkgroup {
  /**
   * Creates a workgroup of `workerCount` workers (0..256; default: `navigator.hardwareConcurrency`, or
   * `autoscale.minWorkers` with `autoscale`). Spawns nothing until `launch()`.
   * Throws when the page is not cross-origin isolated (the message names the two headers to send), and
   * TypeError/RangeError for a bad option, naming it.
   */
  constructor(config?: WorkgroupConfig);
  constructor(workerCount?: number, config?: WorkgroupConfig);
  constructor(countOrConfig?: number | WorkgroupConfig, config?: WorkgroupConfig) {
    super(...countAndConfig(countOrConfig, config), browserPlatform);
  }
}
