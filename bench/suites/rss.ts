/**
 * RSS growth over 1,000,000 tiny jobs (1,024 in flight), each library in a fresh process: RSS after a
 * warm-up and a GC, then after the million jobs and a GC. Growth is the difference; peak is sampled.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { errorMessage, pick, type SuiteContext } from '../lib/context.js';
import { OURS, type LibName } from '../lib/pools.js';
import type { Row, SuiteOutput, Target } from '../lib/report.js';

const CHILD = fileURLToPath(new URL('./rss.child.ts', import.meta.url));

interface ChildResult {
  before: number;
  after: number;
  peak: number;
  jobsPerSecond: number;
  gc: boolean;
}

function runChild(lib: LibName, jobs: number, workers: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, lib, String(jobs), String(workers)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as ChildResult);
      else reject(new Error(`rss child for ${lib} exited with ${signal ?? code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

export async function rssSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const jobs = pick(ctx, 1_000_000, 5_000);
  const rows: Row[] = [];
  let gc = true;
  for (const lib of ctx.libs) {
    ctx.log(`rss: ${lib} (${jobs.toLocaleString('en-US')} jobs in a child process)`);
    try {
      const r = await runChild(lib, jobs, ctx.workers);
      gc &&= r.gc;
      rows.push({ lib, values: { growth: r.after - r.before, before: r.before, peak: r.peak, rate: r.jobsPerSecond }, checked: true });
    } catch (e) {
      rows.push({ lib, values: {}, checked: false, error: errorMessage(e) });
    }
  }
  const ours = rows.find((r) => r.lib === OURS && r.error === undefined);
  const targets: Target[] = [
    {
      issue: 3,
      text: `RSS growth over ${jobs.toLocaleString('en-US')} jobs ≤ 20 MiB`,
      value: ours ? `${ours.values['growth']!.toFixed(1)} MiB` : 'no result',
      met: ours ? ours.values['growth']! <= 20 : null,
    },
  ];
  return {
    suite: 'rss',
    title: `RSS over ${jobs.toLocaleString('en-US')} tiny jobs (1,024 in flight), one process per library`,
    metrics: [
      // No ratios on growth: it can be zero or negative (a process that gave memory back), where a ratio means nothing.
      { key: 'growth', label: 'RSS growth (MiB)', better: 'lower', digits: 1 },
      { key: 'before', label: 'RSS after warm-up (MiB)', better: 'lower', digits: 1 },
      { key: 'peak', label: 'peak RSS (MiB)', better: 'lower', ratios: true, digits: 1 },
      { key: 'rate', label: 'jobs/s in this run', better: 'higher', digits: 0 },
    ],
    rows,
    notes: [
      `Growth = RSS after the jobs and a forced GC − RSS after a warm-up and a forced GC${gc ? '' : ' (gc was not exposed: no forced GC)'}. A negative growth means the process gave memory back.`,
      'Every result is checked. The rate column is informative only (windowed, in a separate process).',
    ],
    targets,
  };
}
