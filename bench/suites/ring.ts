/**
 * The ring suite is bench/ring.bench.ts (the shared-memory ring against raw postMessage, between two
 * threads, no pool). If that file exports a suite function (`runRingSuite`), it is called in-process;
 * otherwise it runs as a child process (`tsx bench/ring.bench.ts`), its Markdown tables are kept, and
 * its JSON (bench/results/ring.json) supplies the targets.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errorMessage, type SuiteContext } from '../lib/context.js';
import type { SuiteOutput, Target } from '../lib/report.js';

const FILE = new URL('../ring.bench.ts', import.meta.url);
const JSON_FILE = new URL('../results/ring.json', import.meta.url);

interface RingJson {
  targets?: Record<string, { value?: number; best?: number; spinThenWaitPerFrame?: number; met: boolean }>;
}

function runChild(smoke: boolean): Promise<string> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  // Smoke: tiny counts, one run per row. Full: the ring bench's own defaults (median of 3 runs per row:
  // a single run of its spin-then-wait rows swings by 100× on a busy machine).
  const env = smoke ? { ...process.env, BENCH_SCALE: '0.001', BENCH_REPS: '1' } : process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, fileURLToPath(FILE)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`bench/ring.bench.ts exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

/** Keeps the ring bench's tables and target lines, drops its banner and file paths. */
function tablesOf(stdout: string): string {
  return stdout
    .split('\n')
    .filter((l) => /^(###|\||- |Targets|\s*$)/.test(l))
    .join('\n')
    .replace(/^###/gm, '####')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export async function ringSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const base = { suite: 'ring' as const, title: 'Ring: the SPSC shared-memory ring between two threads against raw postMessage', metrics: [], rows: [] };
  if (!existsSync(FILE)) return { ...base, notes: [], skipped: 'bench/ring.bench.ts is not there' };
  const source = await readFile(FILE, 'utf8');
  if (/export\s+(async\s+)?function\s+runRingSuite\b/.test(source)) {
    ctx.log('ring: calling runRingSuite from bench/ring.bench.ts');
    const mod = (await import(FILE.href)) as { runRingSuite: (o: { smoke: boolean }) => Promise<Partial<SuiteOutput>> };
    const r = await mod.runRingSuite({ smoke: ctx.smoke });
    return { ...base, notes: [], ...r, suite: 'ring' };
  }
  ctx.log('ring: running bench/ring.bench.ts as a child process');
  // bench/results/ring.json belongs to the ring bench run on its own (median of 3 runs per row): keep it
  // and put it back; this run's figures go into latest.json (`data`).
  const saved = existsSync(JSON_FILE) ? await readFile(JSON_FILE, 'utf8') : undefined;
  let stdout: string;
  let json: RingJson | undefined;
  try {
    stdout = await runChild(ctx.smoke);
    json = JSON.parse(await readFile(JSON_FILE, 'utf8')) as RingJson;
  } catch (e) {
    throw new Error(`ring suite: ${errorMessage(e)}`);
  } finally {
    if (saved !== undefined) await writeFile(JSON_FILE, saved);
  }
  const t = json?.targets ?? {};
  const targets: Target[] = [];
  const pipe = t['pipelinedAtLeast10M'];
  if (pipe) targets.push({ issue: 2, text: 'pipelined frames ≥ 10 M/s', value: `${((pipe.spinThenWaitPerFrame ?? 0) / 1e6).toFixed(2)} M/s spin-then-wait per frame (best row ${((pipe.best ?? 0) / 1e6).toFixed(2)} M/s)`, met: pipe.met });
  const p50 = t['spinThenWaitP50AtMost2us'];
  if (p50) targets.push({ issue: 2, text: 'spin-then-wait round trip p50 ≤ 2 µs', value: `${(p50.value ?? 0).toFixed(2)} µs`, met: p50.met });
  const x30 = t['spinThenWaitAtLeast30xPostMessage'];
  if (x30) targets.push({ issue: 2, text: 'spin-then-wait ≥ 30× better than postMessage', value: `${(x30.value ?? 0).toFixed(1)}×`, met: x30.met });
  return {
    ...base,
    markdown: tablesOf(stdout).replace(/\n*Targets \(reported, not asserted\):[\s\S]*$/, ''),
    notes: [
      `Output of \`bench/ring.bench.ts\` (its own tables; ratios there are × postMessage in the same topology; ${ctx.smoke ? 'smoke counts' : `median of ${process.env['BENCH_REPS'] ?? '3'} runs per row`}). Run alone, it writes bench/results/ring.json.`,
    ],
    targets,
    data: json,
  };
}
