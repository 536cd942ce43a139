// Work module of bench/startup-breakdown.mjs: stamps each start-up phase inside the worker, in absolute
// milliseconds (performance.timeOrigin + now(), comparable across threads).
const now = () => performance.timeOrigin + performance.now();
// Evaluated when the worker entry, loaded and running, imports its work modules.
const entryRunning = now();
// This repository's build is imported by its package name, as users' work modules do (inside a worker that
// resolves to the worker build of the public entry); another build (--lib) by its URL.
const own = new URL('../../dist/index.js', import.meta.url).href;
const lib = await import(process.env.BREAKDOWN_LIB === own ? 'isolate-workgroup' : process.env.BREAKDOWN_LIB);
const libImported = now();
let setupAt = 0;

export function setup() {
  setupAt = now();
}

export class Stamp extends lib.WorkgroupJob {
  execute() {
    return { entryRunning, libImported, setupAt, claimed: now() };
  }
}
