// Project rules that the type checker does not enforce (STYLE.md). `npm run lint` = tsc + this.
//   - src/index*.ts lists exports by name: no `export *`
//   - no `const enum` (erasable TypeScript only), no `namespace`
//   - library code prints nothing: no console.* in src/
//   - files do one thing: warn above 600 lines, fail above 1000
//   - imports run one way: api -> scheduler -> shared -> ring/codec/memory; workers -> shared -> ring/codec/memory
//     (the scheduler and the worker side never import each other or the api)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const errors = [];
const warnings = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.ts')) check(full);
  }
}

/** Which folders of src/ each folder may import from (besides itself). */
const MAY_IMPORT = {
  ring: ['codec', 'memory'],
  codec: ['ring', 'memory'],
  memory: ['ring', 'codec'],
  shared: ['ring', 'codec', 'memory'],
  scheduler: ['shared', 'ring', 'codec', 'memory'],
  workers: ['shared', 'ring', 'codec', 'memory'],
  api: ['scheduler', 'workers', 'shared', 'ring', 'codec', 'memory'],
};

function checkImports(rel, lines) {
  const parts = rel.split(path.sep);
  if (parts[0] !== 'src' || parts.length < 3) return;
  const from = parts[1];
  const allowed = MAY_IMPORT[from];
  if (!allowed) return;
  lines.forEach((line, i) => {
    const m = /^\s*(?:import|export)\b[^'"]*from\s+['"](\.[^'"]+)['"]/.exec(line) ?? /^\s*import\s+['"](\.[^'"]+)['"]/.exec(line);
    if (!m) return;
    const target = path.relative(path.join(root, 'src'), path.resolve(path.dirname(path.join(root, rel)), m[1])).split(path.sep);
    if (target.length < 2) return;
    const to = target[0];
    if (to !== from && !allowed.includes(to)) errors.push(`${rel}:${i + 1}: src/${from} must not import src/${to} (imports run api -> scheduler -> shared -> ring/codec/memory, workers -> shared -> ...)`);
  });
}

function check(file) {
  const rel = path.relative(root, file);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const at = `${rel}:${i + 1}`;
    if (/^\s*export\s+\*/.test(line)) errors.push(`${at}: \`export *\` — list exports by name`);
    if (/\bconst\s+enum\b/.test(line)) errors.push(`${at}: \`const enum\` — use a string-literal union or an \`as const\` object`);
    if (/^\s*(export\s+)?namespace\s/.test(line)) errors.push(`${at}: \`namespace\` — use a module`);
    if (/\bconsole\.(log|info|warn|error|debug)\(/.test(line) && !/lint-allow-console/.test(line)) {
      errors.push(`${at}: console output in library code — use the \`logger\` option`);
    }
  });
  checkImports(rel, lines);
  if (lines.length > 1000) errors.push(`${rel}: ${lines.length} lines — split it (files do one thing; aim for 100–400)`);
  else if (lines.length > 600) warnings.push(`${rel}: ${lines.length} lines — consider splitting`);
}

walk(path.join(root, 'src'));
for (const w of warnings) console.warn(`warning: ${w}`);
for (const e of errors) console.error(`error: ${e}`);
console.log(`lint: ${errors.length} errors, ${warnings.length} warnings`);
process.exit(errors.length === 0 ? 0 : 1);
