// Renders the benchmark results (bench/results/latest.json) as one SVG for the README: a bar panel per
// suite (its headline metric; log scale when the values span more than 20×), and the
// break-even curves (speed-up by job size, log x) as lines.
//
//   node bench/chart.mjs [results.json] [out.svg]     (defaults: bench/results/latest.json, chart.svg)
//
// `npm run bench` calls renderChart() itself after every run.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const WIDTH = 760;
const LEFT = 285;
const RIGHT = 110;
const BAR = 14;
const GAP = 6;
const COLORS = {
  'isolate-workgroup': '#d9480f',
  piscina: '#1c7ed6',
  tinypool: '#0ca678',
  workerpool: '#7048e8',
  poolifier: '#e64980',
  postMessage: '#868e96',
};
const colorOf = (lib) => COLORS[lib] ?? (lib.startsWith('isolate-workgroup') ? '#f08c00' : '#adb5bd');

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(v) {
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '—';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function barPanel(suite, metric, y) {
  const rows = suite.rows.filter((r) => r.error === undefined && Number.isFinite(r.values[metric.key]) && r.values[metric.key] > 0);
  const infinite = suite.rows.filter((r) => r.error === undefined && r.values[metric.key] === Number.POSITIVE_INFINITY);
  if (rows.length === 0) return { svg: '', height: 0 };
  const values = rows.map((r) => r.values[metric.key]);
  const max = Math.max(...values);
  const min = Math.min(...values);
  const log = max / min > 20;
  const span = WIDTH - LEFT - RIGHT;
  const lo = log ? Math.log10(min) - 0.3 : 0;
  const hi = log ? Math.log10(max) : max;
  const scale = (v) => (log ? ((Math.log10(v) - lo) / (hi - lo)) * span : (v / hi) * span);
  const better = metric.better === 'higher' ? 'higher is better' : 'lower is better';
  const out = [
    `<text x="12" y="${y + 16}" class="title">${esc(suite.title)}</text>`,
    `<text x="12" y="${y + 32}" class="sub">${esc(metric.label)} — ${better}${log ? ', log scale' : ''}</text>`,
  ];
  let yy = y + 44;
  for (const r of [...rows, ...infinite]) {
    const v = r.values[metric.key];
    const w = Number.isFinite(v) ? Math.max(2, scale(v)) : span;
    out.push(`<text x="${LEFT - 8}" y="${yy + BAR - 3}" class="lib" text-anchor="end">${esc(r.lib)}</text>`);
    out.push(`<rect x="${LEFT}" y="${yy}" width="${w.toFixed(1)}" height="${BAR}" fill="${colorOf(r.lib)}"${Number.isFinite(v) ? '' : ' fill-opacity="0.25"'}/>`);
    out.push(`<text x="${LEFT + w + 6}" y="${yy + BAR - 3}" class="val">${Number.isFinite(v) ? fmt(v) : 'never'}</text>`);
    yy += BAR + GAP;
  }
  return { svg: out.join('\n'), height: yy - y + 14 };
}

function curvePanel(suite, y) {
  const data = suite.data;
  if (!data || !Array.isArray(data.sizesMicros) || !data.speedups) return { svg: '', height: 0 };
  const sizes = data.sizesMicros;
  const h = 200;
  const x0 = 70;
  const x1 = WIDTH - 170;
  const top = y + 44;
  const yMax = 2.2;
  const lx = (us) => x0 + ((Math.log10(us) - Math.log10(sizes[0])) / (Math.log10(sizes.at(-1)) - Math.log10(sizes[0]) || 1)) * (x1 - x0);
  const ly = (s) => top + h - (Math.min(Math.max(s, 0), yMax) / yMax) * h;
  const out = [
    `<text x="12" y="${y + 16}" class="title">${esc(suite.title)}</text>`,
    `<text x="12" y="${y + 32}" class="sub">speed-up over one thread by job duration (log scale); dashed: 1.8×</text>`,
    `<line x1="${x0}" y1="${top + h}" x2="${x1}" y2="${top + h}" class="axis"/>`,
    `<line x1="${x0}" y1="${top}" x2="${x0}" y2="${top + h}" class="axis"/>`,
    `<line x1="${x0}" y1="${ly(1.8)}" x2="${x1}" y2="${ly(1.8)}" class="target"/>`,
  ];
  for (const s of [0, 0.5, 1, 1.5, 2]) out.push(`<text x="${x0 - 6}" y="${ly(s) + 4}" class="val" text-anchor="end">${s.toFixed(1)}×</text>`);
  for (const us of sizes) out.push(`<text x="${lx(us)}" y="${top + h + 16}" class="val" text-anchor="middle">${us >= 1000 ? `${us / 1000}ms` : `${us}µs`}</text>`);
  let ky = top;
  for (const [lib, curve] of Object.entries(data.speedups)) {
    const pts = curve.map((s, i) => (Number.isFinite(s) ? `${lx(sizes[i]).toFixed(1)},${ly(s).toFixed(1)}` : null)).filter(Boolean);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colorOf(lib)}" stroke-width="${lib === 'isolate-workgroup' ? 3 : 1.5}"/>`);
    out.push(`<rect x="${x1 + 14}" y="${ky}" width="10" height="10" fill="${colorOf(lib)}"/>`);
    out.push(`<text x="${x1 + 28}" y="${ky + 9}" class="val">${esc(lib)}</text>`);
    ky += 16;
  }
  return { svg: out.join('\n'), height: h + 70 };
}

/** The metric a suite's panel shows: of those with ratio columns, the one most libraries have (ties: first). */
function headline(suite) {
  const metrics = suite.metrics ?? [];
  const candidates = metrics.filter((m) => m.ratios);
  const count = (m) => suite.rows.filter((r) => r.error === undefined && Number.isFinite(r.values[m.key])).length;
  let best = candidates[0] ?? metrics[0] ?? { key: '' };
  for (const m of candidates) if (count(m) > count(best)) best = m;
  return best;
}

const BEST_PATH = { key: 'best', label: "ms per job on each library's fastest path (the floor: no worker)", better: 'lower' };

/** The payload suite has one column per path; its panel shows each library at its best. */
function bestPath(suite) {
  const rows = suite.rows.map((r) => {
    const vs = Object.values(r.values).filter((v) => Number.isFinite(v) && v > 0);
    return { ...r, values: vs.length ? { best: Math.min(...vs) } : {} };
  });
  return { ...suite, rows };
}

/** The SVG for a results document ({ suites: SuiteResult[], machine, date }). */
export function renderChart(doc) {
  const parts = [];
  let y = 10;
  for (const suite of doc.suites ?? []) {
    if (suite.skipped !== undefined || !Array.isArray(suite.rows) || suite.rows.length === 0) continue;
    const panel =
      suite.suite === 'breakeven' ? curvePanel(suite, y) : suite.suite === 'payload' ? barPanel(bestPath(suite), BEST_PATH, y) : barPanel(suite, headline(suite), y);
    if (panel.height === 0) continue;
    parts.push(panel.svg);
    y += panel.height;
  }
  const m = doc.machine ?? {};
  parts.push(`<text x="12" y="${y + 12}" class="sub">${esc(`${doc.generatedBy ?? 'npm run bench'} — ${m.date ?? ''}, node ${m.node ?? '?'}, ${m.cpus ?? '?'} × ${m.cpuModel ?? '?'}, load ${(m.loadAverage ?? []).join(' / ')}${m.smoke ? ' — SMOKE RUN, times mean nothing' : ''}`)}</text>`);
  const height = y + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    '<style>.title{font-size:14px;font-weight:600;fill:#212529}.sub{font-size:11px;fill:#495057}.lib{font-size:12px;fill:#212529}.val{font-size:11px;fill:#343a40}.axis{stroke:#adb5bd}.target{stroke:#495057;stroke-dasharray:4 3}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const input = process.argv[2] ?? path.join(dir, 'results', 'latest.json');
  const output = process.argv[3] ?? path.join(path.dirname(input), 'chart.svg');
  writeFileSync(output, renderChart(JSON.parse(readFileSync(input, 'utf8'), (_k, v) => (v === 'Infinity' ? Infinity : v))));
  console.log(`wrote ${output}`);
}
