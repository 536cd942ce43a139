// Where a browser worker's start-up goes: `node bench/browser-startup.mjs [chromium|firefox] [--base DIR]
// [--also NAME=DIR …] [--reps N] [--no-marks] [--json FILE]`.
//
// Builds dist/, copies its browser files to .scratch/browser-startup/current/ (and those of another build
// to …/base/ with --base, e.g. a dist/ built from main), adds performance marks to each copy (the chunks and
// the worker entry evaluated, boot message received, life lock taken, work modules imported, `ready`
// posted; --no-marks leaves the copies as built), and writes a work module per copy whose one job returns
// the worker's marks, its module fetches (resource timing) and its clock. Then, in one page of a fresh
// headless browser (bench/browser/startup.html), it alternates the builds and two plain module workers
// answering one message each, N times after a warm-up (default 9), and prints per phase the median (over
// the runs) of the later of the two workers, in ms from the constructor call (for the plain workers: from
// the first `new Worker`), plus the total and its ratio to the plain workers of the same runs.
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLib } from '../scripts/build.mjs';
import { startCoiServer } from '../scripts/coi-server.mjs';
import { findBrowser } from '../test/browser/browsers.mjs';
import { launch } from '../test/browser/drivers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRATCH = path.join(ROOT, '.scratch/browser-startup');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const kind = args.find((a) => a === 'chromium' || a === 'firefox') ?? 'chromium';
const reps = Number(opt('--reps', 9));
const marks = !args.includes('--no-marks');

/** `text` with `mark` inserted before the first match of `re` (a missing pattern is reported, not fatal). */
function markBefore(text, re, name, file, missing) {
  const m = re.exec(text);
  if (!m) {
    missing.push(`${name} (${file})`);
    return text;
  }
  return `${text.slice(0, m.index)}performance.mark("iw:${name}");\n${text.slice(m.index)}`;
}

/** Copies the browser files of build `from` to .scratch/browser-startup/`name`/, marked; writes its work module. */
async function prepare(name, from) {
  const to = path.join(SCRATCH, name);
  await rm(to, { recursive: true, force: true });
  await mkdir(path.join(to, 'workers'), { recursive: true });
  const files = (await readdir(from)).filter((f) => f.endsWith('.js') && (f.includes('.browser') || f === 'classes.js'));
  for (const f of files) await cp(path.join(from, f), path.join(to, f));
  for (const f of await readdir(path.join(from, 'workers'))) if (f.endsWith('.browser.js')) await cp(path.join(from, 'workers', f), path.join(to, 'workers', f));
  const missing = [];
  if (marks) {
    const edit = async (file, fn) => {
      const p = path.join(to, file);
      await writeFile(p, fn(await readFile(p, 'utf8'), file));
    };
    // The first statement after a file's imports runs when that module is evaluated.
    const afterImports = (text, mark) => {
      const lines = text.split('\n');
      let i = 0;
      let inImport = false;
      for (; i < lines.length; i++) {
        const l = lines[i];
        if (inImport) {
          if (/from\s+["'][^"']+["'];?\s*$/.test(l)) inImport = false;
          continue;
        }
        if (/^import\s*\{/.test(l) && !/from\s+["']/.test(l)) {
          inImport = true;
          continue;
        }
        if (/^import\s/.test(l) || l.trim() === '' || l.startsWith('//')) continue;
        break;
      }
      lines.splice(i, 0, `performance.mark("iw:${mark}");`);
      return lines.join('\n');
    };
    for (const f of files) if (f.startsWith('shared.browser')) await edit(f, (t) => afterImports(t, 'sharedEval'));
    await edit('classes.js', (t) => afterImports(t, 'classesEval'));
    await edit('workers/entry.browser.js', (t) => afterImports(t, 'entryEval'));
    // The marks inside the worker's code: in the entry, or in the file it loads (workers/worker.browser.js).
    const inner = [
      ['boot', /^(?:const|var|  const) init = boot\.init/m],
      ['started', /^\s*lifecycle\(\{ lifecycle: "started" \}\);/m],
      ['importStart', /^\s*enterModuleImport\(\);/m],
      ['readyPosted', /^\s*host2?\.post\(\{ type: "ready" \}\);/m],
    ];
    const codeFiles = ['workers/entry.browser.js', 'workers/worker.browser.js'].filter((f) => existsSync(path.join(to, f)));
    for (const [name, re] of inner) {
      const hit = [];
      for (const f of codeFiles) await edit(f, (t) => markBefore(t, re, name, f, hit));
      if (hit.length === codeFiles.length) missing.push(name);
    }
  }
  const work = path.join(SCRATCH, `work-${name}.mjs`);
  await writeFile(
    work,
    `// Work module of the start-up breakdown for the build in ./${name}/ (generated by bench/browser-startup.mjs).
import { WorkgroupJob } from './${name}/index.browser.js';
const abs = () => performance.timeOrigin + performance.now();
const workEval = abs();
export class Stamp extends WorkgroupJob {
  execute() {
    const exec = abs();
    const marks = {};
    for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('iw:')) marks[m.name.slice(3)] = performance.timeOrigin + m.startTime;
    const resources = performance.getEntriesByType('resource').map((r) => ({ file: r.name.split('/').slice(-1)[0], start: r.startTime, request: r.requestStart, response: r.responseStart, end: r.responseEnd }));
    return { origin: performance.timeOrigin, workEval, exec, marks, resources };
  }
}
`,
  );
  if (missing.length) console.warn(`${name}: no place found for the marks ${missing.join(', ')}`);
  return { name, lib: `../../.scratch/browser-startup/${name}/index.browser.js`, work: `../../.scratch/browser-startup/work-${name}.mjs` };
}

const found = findBrowser(kind);
if (!found.path) throw new Error(found.missing);
await buildLib({ quiet: true });
const variants = [await prepare('current', path.join(ROOT, 'dist'))];
if (opt('--base')) variants.push(await prepare('base', path.resolve(opt('--base'))));
// --also NAME=DIR (repeatable): more builds in the same page.
for (let i = 0; i < args.length; i++) {
  if (args[i] !== '--also') continue;
  const [name, dir] = args[i + 1].split('=');
  variants.push(await prepare(name, path.resolve(dir)));
}
// --also NAME=DIR (repeatable): more builds in the same page.
for (let i = 0; i < args.length; i++) {
  if (args[i] !== '--also') continue;
  const [name, dir] = args[i + 1].split('=');
  variants.push(await prepare(name, path.resolve(dir)));
}
// --experiment: the same build, but the work module imports a two-line stand-in of the worker part of the public entry.
if (args.includes('--experiment')) {
  const v = await prepare('lite', path.join(ROOT, 'dist'), 'lite.js');
  await writeFile(path.join(SCRATCH, 'lite', 'lite.js'), "export { WorkgroupJob } from './classes.js';\n");
  variants.push(v);
}
const server = await startCoiServer({ root: ROOT });
const browser = await launch(kind, found.path);
let result;
try {
  const page = await browser.newPage();
  const errors = [];
  page.onProblem((p) => errors.push(p));
  await page.goto(`${server.url}bench/browser/startup.html`);
  await page.waitFor(() => typeof window.runStartup === 'function', 30_000);
  // Paths relative to the page.
  result = await page.evaluate((o) => window.runStartup(o), { variants: variants.map((v) => ({ ...v, lib: new URL(v.lib, `${server.url}bench/browser/`).href, work: new URL(v.work, `${server.url}bench/browser/`).href })), reps });
  if (errors.length) throw new Error(errors.join('; '));
  result.version = browser.version;
} finally {
  await browser.close();
  await server.close();
}
const r1 = (x) => (x === undefined ? '' : (Math.round(x * 10) / 10).toFixed(1));
console.log(`\n${result.version}, ${reps} runs after a warm-up, marks ${marks ? 'on' : 'off'}; ms from the constructor (plain workers: from the first new Worker), later of 2 workers, medians\n`);
const names = Object.keys(result.summary);
const keys = ['ctor', 'spawn', 'spawned', 'origin', 'classesEval', 'sharedEval', 'entryEval', 'boot', 'started', 'importStart', 'workEval', 'readyPosted', 'launched', 'exec', 'message', 'total'];
console.log(`| phase | ${names.join(' | ')} |`);
console.log(`|---|${names.map(() => '---:').join('|')}|`);
for (const k of keys) if (names.some((n) => result.summary[n][k] !== undefined)) console.log(`| ${k} | ${names.map((n) => r1(result.summary[n][k])).join(' | ')} |`);
console.log(`| ratio to plain | ${names.map((n) => (result.summary[n].total / result.summary.raw.total).toFixed(2) + '×').join(' | ')} |`);
for (const n of names) {
  const f = result.summary[n].fetches;
  if (Object.keys(f).length) console.log(`\n${n} — worker module fetches (start → end): ${Object.entries(f).map(([file, [s, e]]) => `${file} ${r1(s)}→${r1(e)}`).join(', ')}`);
}
// The run of median total of each build, as one timeline (both workers, fetches: start/request/response/end).
for (const n of names) {
  const list = result.runs[n];
  const run = [...list].sort((a, b) => a.total - b.total)[Math.floor(list.length / 2)];
  const events = [];
  run.workers.forEach((w, i) => {
    for (const [k, v] of Object.entries(w)) if (k !== 'fetches' && v !== undefined) events.push([v, `w${i} ${k}`]);
    for (const f of w.fetches) events.push([f.start, `w${i} fetch ${f.file}: request ${r1(f.request)}, response ${r1(f.response)}, end ${r1(f.end)}`]);
  });
  for (const f of run.page ?? []) events.push([f.start, `page fetch ${f.file}: request ${r1(f.request)}, response ${r1(f.response)}, end ${r1(f.end)}`]);
  if (run.launched !== undefined) events.push([run.launched, 'main launch() resolved']);
  for (const x of run.readyMain ?? []) events.push([x, 'main ready received']);
  events.push([run.total, 'main all results']);
  events.sort((a, b) => a[0] - b[0]);
  console.log(`\n${n}, run of median total (${r1(run.total)} ms):`);
  for (const [t, what] of events) console.log(`  ${r1(t).padStart(7)}  ${what}`);
}
// Each build's totals, and its difference to the first build in the same repetitions (paired: the runs of one
// repetition are back to back, so a busy moment of the machine slows both).
const builds = names.filter((x) => x !== 'raw');
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const n of [...builds, 'raw']) console.log(`${n}: totals ${result.runs[n].map((r) => r1(r.total)).join(' ')}`);
for (const n of builds.slice(1)) {
  const diffs = result.runs[builds[0]].map((r, i) => r.total - result.runs[n][i].total);
  console.log(`${builds[0]} − ${n}, per repetition: median ${r1(med(diffs))} ms`);
}
if (opt('--json')) await writeFile(opt('--json'), `${JSON.stringify(result, null, 2)}\n`);
