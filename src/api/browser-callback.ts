/** The browser `CallbackWorkgroup` (one dedicated module Web Worker per run). */
import { CallbackWorkgroupBase, type CallbackWorkgroupJob } from './callback.js';
import { IsolateWorkgroup } from './browser-workgroup.js';

export class CallbackWorkgroup<R = unknown, A = unknown> extends CallbackWorkgroupBase<R, A> {
  constructor(job: CallbackWorkgroupJob<R, A>) {
    super(job, (config) => new IsolateWorkgroup(1, config));
  }
}
