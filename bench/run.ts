/**
 * `npm run bench` — every benchmark suite, side by side with the peers, in one run.
 *
 *   npm run bench                                  all suites but scaling (under 10 minutes on 2 cores)
 *   npm run bench -- --scope latency,members       some suites (--scope may also be repeated)
 *   npm run bench -- --scope scaling               1 … N workers (meant for a bigger machine)
 *   npm run bench -- --smoke                       tiny counts: every suite and library runs and agrees; times mean nothing
 *   npm run bench -- --json                        the results document on stdout (progress on stderr)
 *   npm run bench -- --out DIR                     where to write the results (default bench/results)
 *   npm run bench -- --libs isolate-workgroup,piscina   only these libraries
 *
 * Scopes: ring, dispatch, latency, payload, members, startup, idle, rss, breakeven, autoscale, kernels, scaling.
 * A full run writes latest.json (merged by suite with the previous one, so a scoped run updates only
 * its suites), latest.md and chart.svg; a smoke run writes smoke.json, smoke.md and smoke-chart.svg.
 * Exits 1 when a suite or a library failed (an error, or a wrong result), 2 on bad arguments.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, type SuiteContext } from './lib/context.js';
import { LIBRARIES, takeCloseStalls, type LibName } from './lib/pools.js';
import { DEFAULT_SCOPES, SCOPES, documentMarkdown, machineInfo, suiteMarkdown, type Scope, type SuiteOutput, type SuiteResult } from './lib/report.js';
import { autoscaleSuite } from './suites/autoscale.js';
import { breakevenSuite } from './suites/breakeven.js';
import { dispatchSuite } from './suites/dispatch.js';
import { idleSuite } from './suites/idle.js';
import { kernelsSuite } from './suites/kernels.js';
import { latencySuite } from './suites/latency.js';
import { membersSuite } from './suites/members.js';
import { payloadSuite } from './suites/payload.js';
import { ringSuite } from './suites/ring.js';
import { rssSuite } from './suites/rss.js';
import { scalingSuite } from './suites/scaling.js';
import { startupSuite } from './suites/startup.js';
// @ts-expect-error -- plain .mjs script without declarations
import { renderChart } from './chart.mjs';

const SUITES: Record<Scope, (ctx: SuiteContext) => Promise<SuiteOutput>> = {
  ring: ringSuite,
  dispatch: dispatchSuite,
  latency: latencySuite,
  payload: payloadSuite,
  members: membersSuite,
  startup: startupSuite,
  idle: idleSuite,
  rss: rssSuite,
  breakeven: breakevenSuite,
  autoscale: autoscaleSuite,
  kernels: kernelsSuite,
  scaling: scalingSuite,
};

// JSON has no Infinity ("never reached" in the break-even suite): it travels as the string "Infinity".
const replace = (_key: string, v: unknown): unknown => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v);
const revive = (_key: string, v: unknown): unknown => (v === 'Infinity' ? Number.POSITIVE_INFINITY : v);

interface Args {
  scopes: Scope[];
  smoke: boolean;
  json: boolean;
  out: string;
  workers: number;
  libs: LibName[];
}

function usage(problem: string): never {
  process.stderr.write(`bench: ${problem}\nusage: tsx bench/run.ts [--scope ${SCOPES.join('|')}[,...]] [--smoke] [--json] [--out DIR] [--workers N] [--libs a,b]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const scopes: Scope[] = [];
  let smoke = false;
  let json = false;
  let out = fileURLToPath(new URL('./results/', import.meta.url));
  let workers = 2;
  let libs: LibName[] = [...LIBRARIES];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--scope':
        for (const s of value().split(',')) {
          if (s === 'all') scopes.push(...DEFAULT_SCOPES);
          else if ((SCOPES as readonly string[]).includes(s)) scopes.push(s as Scope);
          else usage(`unknown scope "${s}" (expected one of ${SCOPES.join(', ')}, or all)`);
        }
        break;
      case '--smoke':
        smoke = true;
        break;
      case '--json':
        json = true;
        break;
      case '--out':
        out = path.resolve(value());
        break;
      case '--workers': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 64) usage(`expected --workers to be an integer in 1..64, got ${String(argv[i])}`);
        workers = n;
        break;
      }
      case '--libs':
        libs = value().split(',').map((l) => {
          if (!(LIBRARIES as readonly string[]).includes(l)) usage(`unknown library "${l}" (expected some of ${LIBRARIES.join(', ')})`);
          return l as LibName;
        });
        break;
      default:
        usage(`unknown argument "${a}"`);
    }
  }
  return { scopes: scopes.length > 0 ? [...new Set(scopes)] : [...DEFAULT_SCOPES], smoke, json, out, workers, libs };
}

/** A suite failed when it threw, or when any of its rows has an error or an unchecked result. */
function failures(s: SuiteResult): string[] {
  if (s.skipped !== undefined) return [];
  return s.rows.filter((r) => r.error !== undefined || !r.checked).map((r) => `${s.suite}/${r.lib}: ${r.error ?? 'result not checked'}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const log = (m: string): void => void process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const print = (m: string): void => void (args.json ? process.stderr : process.stdout).write(`${m}\n`);
  const ctx: SuiteContext = { smoke: args.smoke, workers: args.workers, libs: args.libs, log };
  const m0 = machineInfo(args.smoke);
  print(
    `isolate-workgroup benchmarks: node ${m0.node}, ${m0.cpus} × ${m0.cpuModel}, load ${m0.loadAverage.join(' / ')}, ` +
      `${args.workers} workers, scopes ${args.scopes.join(', ')}${args.smoke ? ' — SMOKE RUN: tiny counts, the times mean nothing' : ''}\n`,
  );

  const results: SuiteResult[] = [];
  const failed: string[] = [];
  for (const scope of args.scopes) {
    const t0 = performance.now();
    let result: SuiteResult;
    try {
      const r = await SUITES[scope](ctx);
      result = { ...r, machine: machineInfo(args.smoke), seconds: (performance.now() - t0) / 1000 };
    } catch (e) {
      const error = errorMessage(e);
      result = { suite: scope, title: scope, metrics: [], rows: [{ lib: 'suite', values: {}, checked: false, error }], notes: [], machine: machineInfo(args.smoke), seconds: (performance.now() - t0) / 1000 };
    }
    const stalls = takeCloseStalls();
    if (stalls.length > 0) result = { ...result, notes: [...result.notes, ...stalls.map((x) => `Close stall — ${x}.`)] };
    results.push(result);
    failed.push(...failures(result));
    print(suiteMarkdown(result));
  }

  await mkdir(args.out, { recursive: true });
  const base = args.smoke ? 'smoke' : 'latest';
  const jsonPath = path.join(args.out, `${base}.json`);
  // A scoped full run replaces its own suites and keeps the others from the previous run.
  let merged: SuiteResult[] = results;
  if (!args.smoke && existsSync(jsonPath)) {
    try {
      const previous = (JSON.parse(await readFile(jsonPath, 'utf8'), revive) as { suites?: SuiteResult[] }).suites ?? [];
      const fresh = new Set(results.map((r) => r.suite));
      merged = [...previous.filter((p) => !fresh.has(p.suite) && (SCOPES as readonly string[]).includes(p.suite)), ...results];
      merged.sort((a, b) => SCOPES.indexOf(a.suite) - SCOPES.indexOf(b.suite));
    } catch {
      merged = results;
    }
  }
  const command = `npm run bench${args.smoke ? ' -- --smoke' : ''}`;
  const doc = { generatedBy: command, date: new Date().toISOString(), machine: machineInfo(args.smoke), workers: args.workers, suites: merged, failures: failed };
  await writeFile(jsonPath, `${JSON.stringify(doc, replace, 2)}\n`);
  const chartName = args.smoke ? 'smoke-chart.svg' : 'chart.svg';
  await writeFile(path.join(args.out, chartName), (renderChart as (d: unknown) => string)(doc));
  await writeFile(path.join(args.out, `${base}.md`), documentMarkdown(merged, command).replace('(chart.svg)', `(${chartName})`));
  if (args.json) process.stdout.write(`${JSON.stringify(doc, replace, 2)}\n`);

  const seconds = (performance.now() - started) / 1000;
  print(`wrote ${jsonPath}, ${base}.md and ${chartName} in ${args.out} — ${seconds.toFixed(0)} s in all`);
  if (failed.length > 0) {
    process.stderr.write(`bench: ${failed.length} failure(s):\n${failed.map((f) => `  ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

await main();
// Every pool was closed; exit now rather than wait on a peer library's stray timer.
process.exit(process.exitCode ?? 0);
