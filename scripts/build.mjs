// Builds dist/ from src/. Declarations come from `tsc -p tsconfig.build.json`.
//
// What a program loads is bundled, so that starting a worker reads four files instead of ~60:
//   dist/index.js, dist/index.browser.js           the public entries (Node, browser), one file each
//   dist/index.worker.js                            the public entry inside the library's own Node workers (the
//                                                   `isolate-workgroup-worker` condition): no main-thread code
//   dist/workers/entry.node.js, entry.browser.js    the worker entries, one file each
//   dist/classes.js                                 the library's public classes: WorkgroupJob, WorkgroupMember,
//                                                   WorkerCommand and every error class
// The classes live in one module that every bundle imports instead of carrying its own copy, so a
// worker and the work modules it imports (which import `isolate-workgroup`) see one WorkgroupJob and
// one WorkgroupException: errors keep their class across threads, `instanceof` holds on both sides.
//
// Every other source file is also transpiled one to one (dist/ring/spsc.js, dist/memory/arena.js, …):
// tests, benchmarks and the `isolate-workgroup/bullmq` entry (dist/bullmq/index.js, whose imports of the
// optional peers bullmq and ioredis stay bare and dynamic) use them. In that tree, shared/errors.js,
// memory/errors.js and api/job.js are re-exports of dist/classes.js, so it shares the classes too.
import { build } from 'esbuild';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

/** The modules whose classes must exist once per thread (see above), relative to src/. */
// (api/job.ts and api/errors.ts only re-export shared/job.ts and shared/errors.ts: listed so that their imports map here too.)
export const CLASS_MODULES = [
  'shared/errors.ts',
  'memory/errors.ts',
  'shared/job.ts',
  'api/job.ts',
  'api/errors.ts',
  // The other public values every entry exports, the worker build of the public entry included: kept here
  // so that the entries share them instead of each loading a small chunk of its own (and so that
  // `instanceof CallbackWorkgroupJob` / `WorkgroupKernel` holds across the copies of the library in a thread).
  'shared/kernel.ts',
  'api/callback-job.ts',
  'api/health-config.ts',
  'api/error-types.ts',
  // The flag a worker raises while it imports work modules (read by both builds of the public entry).
  'shared/worker-flag.ts',
];
const CLASSES_FILE = 'classes.js';

async function listTs(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listTs(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

// Not minified: measured, minifying saves ~1 ms of a worker's start and costs readable stack traces.
const common = { format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };

/** `to` relative to the directory `from`, as an import specifier. */
function specifier(from, to) {
  const rel = path.relative(from, to).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

const CLASSES_PLACEHOLDER = '@@isolate-workgroup-classes@@';

/** An esbuild plugin: imports of the class modules become imports of dist/classes.js (a placeholder, fixed per file below). */
const sharedClasses = {
  name: 'shared-classes',
  setup(b) {
    const targets = new Set(CLASS_MODULES.map((m) => path.join(src, m)));
    b.onResolve({ filter: /(errors|job|kernel|callback-job|health-config|error-types|worker-flag)\.js$/ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return targets.has(file) ? { path: CLASSES_PLACEHOLDER, external: true } : undefined;
    });
  },
};

/**
 * One platform's public entry and worker entry, bundled together with code splitting: what both use
 * (codec, rings, shared memory) lands in a chunk, `shared.<platform>-<hash>.js`, so a worker — which loads the
 * worker entry, and the public entry through its work modules' `import 'isolate-workgroup'` — reads each
 * part once. For Node the `isolate-workgroup/bullmq` entry joins them (so it shares `IsolateWorkgroup` with
 * the public entry); its optional peers bullmq and ioredis stay external. The class modules stay in
 * dist/classes.js.
 */
async function bundle(platform, entries) {
  const result = await build({
    ...common,
    entryPoints: entries,
    outdir: dist,
    bundle: true,
    splitting: true,
    chunkNames: `shared.${platform}-[hash]`,
    platform,
    external: ['node:*', 'bullmq', 'ioredis'],
    plugins: [sharedClasses],
    write: false,
  });
  await Promise.all(
    result.outputFiles.map((f) => {
      const text = f.path.endsWith('.js') ? f.text.replaceAll(CLASSES_PLACEHOLDER, specifier(path.dirname(f.path), path.join(dist, CLASSES_FILE))) : f.text;
      return mkdir(path.dirname(f.path), { recursive: true }).then(() => writeFile(f.path, text));
    }),
  );
}

export async function buildLib({ quiet = false, clean = false } = {}) {
  const started = performance.now();
  // Tests overwrite dist/ in place (several runs may build at once); a release build (`--clean`) starts
  // from an empty dist/ so that no stale file is packed.
  if (clean) await rm(dist, { recursive: true, force: true });
  // 1. Every file one to one.
  await build({ ...common, entryPoints: await listTs(src), outdir: dist, outbase: src, bundle: false, platform: 'neutral' });
  // 2. The shared classes, then the one-to-one class modules turned into re-exports of them.
  await build({
    ...common,
    stdin: { contents: CLASS_MODULES.map((m) => `export * from './${m}';`).join('\n'), resolveDir: src, sourcefile: 'classes.ts', loader: 'ts' },
    outfile: path.join(dist, CLASSES_FILE),
    bundle: true,
    platform: 'neutral',
  });
  for (const m of CLASS_MODULES) {
    const out = path.join(dist, m.replace(/\.ts$/, '.js'));
    const rel = specifier(path.dirname(out), path.join(dist, CLASSES_FILE));
    await writeFile(out, `// Re-exports dist/${CLASSES_FILE}: one copy of the library's classes for every entry (see scripts/build.mjs).\nexport * from '${rel}';\n`);
    await rm(`${out}.map`, { force: true });
  }
  // 3. The bundled entries, over the one-to-one files of the same name.
  await Promise.all([
    bundle('node', {
      index: path.join(src, 'index.ts'),
      'index.worker': path.join(src, 'index.worker.ts'),
      'workers/entry.node': path.join(src, 'workers/entry.node.ts'),
      'bullmq/index': path.join(src, 'bullmq/index.ts'),
    }),
    bundle('browser', { 'index.browser': path.join(src, 'index.browser.ts'), 'workers/entry.browser': path.join(src, 'workers/entry.browser.ts') }),
  ]);
  if (!quiet) console.log(`built dist/ in ${(performance.now() - started).toFixed(0)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildLib({ clean: process.argv.includes('--clean') });
}
