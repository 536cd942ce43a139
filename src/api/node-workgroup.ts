/** The Node.js `IsolateWorkgroup`: the public class bound to the `worker_threads` platform. */
import { nodePlatform } from '../workers/node-platform.js';
import type { WorkgroupConfig } from './config.js';
import { IsolateWorkgroup as BaseWorkgroup, countAndConfig } from './workgroup.js';

export class IsolateWorkgroup extends BaseWorkgroup {
  /**
   * Creates a workgroup of `workerCount` workers (0..256; default: `os.availableParallelism()`, or
   * `autoscale.minWorkers` with `autoscale`). Spawns nothing until `launch()`. The count may be left out:
   * `new IsolateWorkgroup({ modules })`. Throws TypeError/RangeError for a bad option, naming it.
   */
  constructor(config?: WorkgroupConfig);
  constructor(workerCount?: number, config?: WorkgroupConfig);
  constructor(countOrConfig?: number | WorkgroupConfig, config?: WorkgroupConfig) {
    super(...countAndConfig(countOrConfig, config), nodePlatform);
  }
}
