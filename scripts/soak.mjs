// `npm run soak -- --seconds N [--seed S]`: builds dist/, then runs the chaos soak (test/stress/chaos-soak.mjs)
// for N seconds (default 20) and prints its report. Exit code 1 when anything was lost, wrong or leaked.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildLib } from './build.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
await buildLib({ quiet: true });
const run = spawnSync(process.execPath, [path.join(root, 'test/stress/chaos-soak.mjs'), ...process.argv.slice(2)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
process.stdout.write(run.stdout ?? '');
const line = (run.stdout ?? '').split('\n').find((l) => l.startsWith('CHAOS-REPORT '));
if (run.status !== 0 || !line) process.exit(1);
const r = JSON.parse(line.slice('CHAOS-REPORT '.length));
const bad = r.lost + r.wrongResults + r.unexpectedErrors + r.ranTwice + r.okNotRunOnce + r.pendingAtEnd + r.liveAfterShutdown;
const memory = r.sharedMemoryAtEnd.liveBytes - r.sharedMemoryAtStart.liveBytes;
process.exit(bad === 0 && memory === 0 ? 0 : 1);
