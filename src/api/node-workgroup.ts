/** The Node.js `IsolateWorkgroup`: the public class bound to the `worker_threads` platform. */
import { nodePlatform } from '../workers/node-platform.js';
import type { WorkgroupConfig } from './config.js';
import { IsolateWorkgroup as BaseWorkgroup } from './workgroup.js';

export class IsolateWorkgroup extends BaseWorkgroup {
  /**
   * Creates a workgroup of `workerCount` workers (0..256). Spawns nothing until `launch()`.
   * Throws TypeError/RangeError for a bad option, naming it.
   */
  constructor(workerCount: number, config?: WorkgroupConfig) {
    super(workerCount, config, nodePlatform);
  }
}
