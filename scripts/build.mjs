// Builds dist/ from src/: every file transpiled one to one (no bundling), so the worker entries
// and the public barrel share one instance of every module (the same `WorkgroupJob` class on both
// sides of a work module's `import 'isolate-workgroup'`). Declarations come from `tsc -p tsconfig.build.json`.
// Entries besides the main one are built the same way: src/bullmq/index.ts → dist/bullmq/index.js, the
// `isolate-workgroup/bullmq` export (its imports of the optional peers bullmq and ioredis stay bare and
// dynamic, so the main entry never loads them).
import { build } from 'esbuild';
import { readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

async function listTs(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listTs(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

export async function buildLib({ quiet = false, clean = false } = {}) {
  const started = performance.now();
  // Tests overwrite dist/ in place (several runs may build at once); a release build (`--clean`) starts
  // from an empty dist/ so that no stale file is packed.
  if (clean) await rm(path.join(root, 'dist'), { recursive: true, force: true });
  await build({
    entryPoints: await listTs(path.join(root, 'src')),
    outdir: path.join(root, 'dist'),
    outbase: path.join(root, 'src'),
    bundle: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  if (!quiet) console.log(`built dist/ in ${(performance.now() - started).toFixed(0)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildLib({ clean: process.argv.includes('--clean') });
}
