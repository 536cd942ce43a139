/**
 * What a suite returns and how it is printed: one Markdown table per suite with the absolute figures,
 * and for the metrics that have them, the ratio to the fastest peer and to raw postMessage.
 *
 * A ratio is always "times better than the reference": for a higher-is-better metric (jobs/s) it is
 * value ÷ reference, for a lower-is-better one (µs, ms, %, MiB) reference ÷ value. So > 1 means better
 * than the reference, < 1 worse, for every column alike.
 */
import os from 'node:os';
import { LIBRARIES, PEERS, RAW, type LibName } from './pools.js';

export const SCOPES = ['ring', 'dispatch', 'latency', 'payload', 'members', 'startup', 'idle', 'rss', 'breakeven', 'autoscale', 'kernels', 'scaling'] as const;
export type Scope = (typeof SCOPES)[number];
/** Everything but `scaling` (1..N workers; meant for a bigger machine). */
export const DEFAULT_SCOPES: readonly Scope[] = SCOPES.filter((s) => s !== 'scaling');

export interface Metric {
  readonly key: string;
  /** Column header, with its unit. */
  readonly label: string;
  readonly better: 'higher' | 'lower';
  /** Print "× fastest peer" and "× postMessage" columns for this metric. */
  readonly ratios?: boolean;
  /** Decimal places (default: chosen by size). */
  readonly digits?: number;
}

export interface Row {
  readonly lib: LibName | string;
  /** Values by metric key; a missing key prints as "—". */
  readonly values: Record<string, number>;
  /** Every result of this row was checked before (and while) it was timed. */
  readonly checked: boolean;
  /** Set when the row failed: the error message. */
  readonly error?: string;
}

export interface MachineInfo {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly loadAverage: readonly number[];
  readonly smoke: boolean;
}

export interface SuiteResult {
  readonly suite: Scope;
  readonly title: string;
  readonly metrics: readonly Metric[];
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
  /** Set when the suite did not run: why. */
  readonly skipped?: string;
  /** A suite that prints its own tables (the ring suite) puts them here instead of rows. */
  readonly markdown?: string;
  /** Targets from the issues that this suite measures. */
  readonly targets?: readonly Target[];
  /** Extra machine-readable data (curves, per-run figures). */
  readonly data?: unknown;
  readonly machine: MachineInfo;
  readonly seconds: number;
}

export interface Target {
  readonly issue: number;
  readonly text: string;
  readonly value: string;
  /** null: not measured — or, for a figure reported without a threshold, `info: true`. */
  readonly met: boolean | null;
  readonly info?: boolean;
}

export function machineInfo(smoke: boolean): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    smoke,
  };
}

export function fmt(value: number | undefined, digits?: number): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (digits !== undefined) return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const a = Math.abs(value);
  const d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** "times better than" `ref` (see the file comment); undefined when either side is missing or zero. */
export function advantage(metric: Metric, value: number | undefined, ref: number | undefined): number | undefined {
  if (value === undefined || ref === undefined || !Number.isFinite(value) || !Number.isFinite(ref)) return undefined;
  if (metric.better === 'higher') return ref > 0 ? value / ref : undefined;
  return value > 0 ? ref / value : undefined;
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined) return '—';
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toFixed(2)}×`;
}

/** The best peer's value for a metric (peers only: not us, not the raw baseline). */
export function bestPeer(metric: Metric, rows: readonly Row[]): { lib: string; value: number } | undefined {
  let best: { lib: string; value: number } | undefined;
  for (const r of rows) {
    if (!PEERS.includes(r.lib as LibName) || r.error !== undefined) continue;
    const v = r.values[metric.key];
    if (v === undefined || !Number.isFinite(v)) continue;
    if (!best || (metric.better === 'higher' ? v > best.value : v < best.value)) best = { lib: r.lib, value: v };
  }
  return best;
}

export function suiteMarkdown(s: SuiteResult): string {
  const out: string[] = [`### ${s.title}`, ''];
  if (s.skipped !== undefined) {
    out.push(`Skipped: ${s.skipped}`, '');
    return out.join('\n');
  }
  if (s.markdown !== undefined) out.push(s.markdown.trim(), '');
  if (s.rows.length > 0) {
    const header = ['library'];
    const align = ['---'];
    for (const m of s.metrics) {
      header.push(m.label);
      align.push('---:');
      if (m.ratios) {
        header.push('× fastest peer', '× postMessage');
        align.push('---:', '---:');
      }
    }
    header.push('checked');
    align.push(':---:');
    out.push(`| ${header.join(' | ')} |`, `|${align.join('|')}|`);
    const refs = new Map(s.metrics.map((m) => [m.key, { peer: bestPeer(m, s.rows), raw: s.rows.find((r) => r.lib === RAW && r.error === undefined)?.values[m.key] }]));
    const ordered = [...s.rows].sort((a, b) => libOrder(a.lib) - libOrder(b.lib));
    for (const r of ordered) {
      const cells = [r.lib === 'isolate-workgroup' ? `**${r.lib}**` : r.lib];
      if (r.error !== undefined) {
        cells.push(`failed: ${r.error.replace(/\|/g, '\\|').slice(0, 160)}`);
        out.push(`| ${cells.join(' | ')} |`);
        continue;
      }
      for (const m of s.metrics) {
        const v = r.values[m.key];
        cells.push(fmt(v, m.digits));
        if (m.ratios) {
          const ref = refs.get(m.key)!;
          cells.push(fmtRatio(advantage(m, v, ref.peer?.value)), fmtRatio(advantage(m, v, ref.raw)));
        }
      }
      cells.push(r.checked ? 'yes' : 'no');
      out.push(`| ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  for (const n of s.notes) out.push(`- ${n}`);
  if (s.notes.length > 0) out.push('');
  if (s.targets && s.targets.length > 0) {
    out.push('Targets (reported, never asserted):', '');
    for (const t of s.targets) out.push(t.info ? `- issue ${t.issue}: ${t.text} — ${t.value}` : `- issue ${t.issue}: ${t.text} — ${t.value} → **${t.met === null ? 'not measured' : t.met ? 'met' : 'missed'}**`);
    out.push('');
  }
  const m = s.machine;
  out.push(`<sub>${m.date}, node ${m.node}, ${m.cpus} × ${m.cpuModel}, load ${m.loadAverage.join(' / ')}${m.smoke ? ', **smoke run (tiny counts)**' : ''}, ${s.seconds.toFixed(1)} s</sub>`, '');
  return out.join('\n');
}

function libOrder(lib: string): number {
  const i = (LIBRARIES as readonly string[]).indexOf(lib);
  return i < 0 ? LIBRARIES.length : i;
}

export function documentMarkdown(suites: readonly SuiteResult[], command: string): string {
  const head = [
    '# Benchmark results',
    '',
    `Produced by \`${command}\` (\`bench/run.ts\`). Every suite runs the same work through isolate-workgroup,`,
    'piscina, tinypool, workerpool, poolifier and a raw postMessage baseline (two plain workers, no library),',
    'in the same run, with 2 workers each and every library\'s defaults. Every result is checked before it is timed.',
    '',
    'Ratios read "times better than the reference": value ÷ reference for rates, reference ÷ value for',
    'times, CPU and memory. Above 1 is better than the fastest peer (or than raw postMessage), below 1 worse.',
    'The figures of a shared or busy machine are noisy: the load average is printed under each table.',
    '',
    '![benchmark chart](chart.svg)',
    '',
  ];
  return [...head, ...suites.map(suiteMarkdown)].join('\n');
}

/** What a suite function returns; the runner adds the machine and the duration. */
export type SuiteOutput = Omit<SuiteResult, 'machine' | 'seconds'>;
