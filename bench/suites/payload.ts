/**
 * The 16 MiB payload suite lives in bench/payload.bench.ts (issue 5's engineer owns it). When that
 * file exists and exports `runPayloadSuite(options)`, it runs here; until then the suite is skipped
 * with a note. The contract: `runPayloadSuite({ smoke, workers, libs, log })` resolves with
 * `{ title?, metrics, rows, notes?, targets?, markdown? }` in the shapes of bench/lib/report.ts.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SuiteContext } from '../lib/context.js';
import type { SuiteOutput } from '../lib/report.js';

const FILE = new URL('../payload.bench.ts', import.meta.url);

type PayloadSuite = (options: { smoke: boolean; workers: number; libs: readonly string[]; log: (m: string) => void }) => Promise<Partial<SuiteOutput>>;

export async function payloadSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const base = { suite: 'payload' as const, title: '16 MiB Float64Array payload, per job', metrics: [], rows: [], notes: [] };
  if (!existsSync(FILE)) return { ...base, skipped: 'bench/payload.bench.ts has not landed yet (issue 5); this suite runs its `runPayloadSuite` once it exists.' };
  // Look before importing: a bench file that runs itself at import time must not start here.
  const exportsSuite = /export\s+(async\s+)?function\s+runPayloadSuite\b|export\s+(const|let)\s+runPayloadSuite\b|export\s*\{[^}]*\brunPayloadSuite\b/.test(await readFile(FILE, 'utf8'));
  const mod = exportsSuite ? ((await import(FILE.href)) as { runPayloadSuite?: PayloadSuite }) : {};
  if (typeof mod.runPayloadSuite !== 'function') {
    return { ...base, skipped: 'bench/payload.bench.ts exists but exports no `runPayloadSuite(options)` function yet.' };
  }
  ctx.log('payload: runPayloadSuite from bench/payload.bench.ts');
  const r = await mod.runPayloadSuite({ smoke: ctx.smoke, workers: ctx.workers, libs: ctx.libs, log: ctx.log });
  if (!Array.isArray(r.rows) && typeof r.markdown !== 'string') {
    return { ...base, markdown: `\`\`\`json\n${JSON.stringify(r, null, 2)}\n\`\`\``, notes: ['runPayloadSuite returned no rows; its raw output is shown.'] };
  }
  return { ...base, ...r, suite: 'payload' };
}
