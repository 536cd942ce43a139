// A/B of two builds' start-up: `node bench/startup-ab.mjs <rootA> <rootB> [rounds]`.
// Each root is a checkout with its dist/ built (e.g. a `git worktree` of an older commit with
// `node scripts/build.mjs --clean`). Runs bench/suites/startup.child.mjs of each root alternately, in fresh
// processes (2 workers, 5 later pools), under /usr/bin/time when it exists, and prints per build the
// medians: ready for the first and later pools, first result, shutdown, and the child's CPU time (user +
// system, ms) — the CPU time moves less with the load of a shared machine than the clock does.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: node bench/startup-ab.mjs <rootA> <rootB> [rounds]');
const rounds = Number(roundsArg ?? 6);
const timed = existsSync('/usr/bin/time');
const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
const runs = new Map([
  [a, []],
  [b, []],
]);
for (let r = 0; r < rounds; r++) {
  for (const root of [a, b]) {
    const args = [`${root}/bench/suites/startup.child.mjs`, 'isolate-workgroup', '2', '5', '2'];
    const p = timed ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`${root}: startup child failed: ${p.stderr}`);
    const result = JSON.parse(p.stdout.trim().split('\n').pop());
    const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(p.stderr ?? '');
    result.cpu = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN;
    runs.get(root).push(result);
  }
}
for (const [root, rs] of runs) {
  const m = (f) => median(rs.map(f)).toFixed(1);
  console.log(`${root}: first ${m((r) => r.first)} ms, later ${m((r) => median(r.later))} ms, first result ${m((r) => r.firstResult)} ms, shutdown ${m((r) => median(r.shutdown))} ms, CPU ${m((r) => r.cpu)} ms`);
}
