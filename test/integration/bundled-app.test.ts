// The package as users get it: `npm pack`, installed into a fresh app (test/fixtures/bundled-app), run
// from node_modules (ESM, the worker entry, the types), then the same app bundled — the library inside
// the bundle, not external — by esbuild, Vite and webpack, for Node (run with node, out of reach of any
// node_modules) and for the browser (loaded in headless Chromium on a cross-origin-isolated server).
// Each bundler gets only what docs/bundling.md gives it for the worker entry (esbuild: one more entry
// point; Vite for Node: one more input, chunks beside the entries; Vite for the browser: ES module workers;
// webpack: ES module output, the work module as an entry of its own that the app's entry depends on).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stats } from 'webpack';
import { repoRoot, runNode } from './run-node.js';

const fixture = fileURLToPath(new URL('../fixtures/bundled-app/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const expected = { early: 49, squares: [1, 4, 9], custom: 'true TooBig 100', library: 'true negative', ran: 27, workers: 2 };

/** Type-checked against the packed package's declarations, never run. */
const TYPED_APP = `
import { IsolateWorkgroup, WorkgroupJob, WorkgroupException, type WorkgroupConfig } from 'isolate-workgroup';

class Twice extends WorkgroupJob<number> {
  x = 1;
  execute(): number {
    return 2 * this.x;
  }
}

export async function typed(): Promise<number> {
  const config: WorkgroupConfig = { modules: [new URL('./work.js', import.meta.url)] };
  const wg = new IsolateWorkgroup(1, config);
  await wg.launch();
  const n: number = await wg.dispatch(new Twice());
  // @ts-expect-error -- the result of dispatch is typed by the job
  const s: string = await wg.dispatch(new Twice());
  await wg.shutdown();
  return n + s.length + new WorkgroupException('x').message.length;
}
`;

let tmp: string;
let app: string;

/** Runs a program in `cwd` and returns its stdout; throws with its output when it fails. */
function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'iwg-bundled-'));
  app = path.join(tmp, 'app');
  cpSync(fixture, app, { recursive: true });
  // dist/ JavaScript is fresh (test/global-setup.ts); the declarations come from tsc.
  sh(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], repoRoot);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const packed = JSON.parse(sh(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], repoRoot)) as { filename: string }[];
  sh(npm, ['install', path.join(tmp, packed[0]!.filename), '--offline', '--no-audit', '--no-fund', '--no-package-lock'], app);
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs a built Node app's main file; resolves with the JSON line it printed. */
async function runApp(file: string): Promise<unknown> {
  const r = await runNode([file], 30_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** A directory outside the app: a bundle run from there cannot fall back on node_modules. */
function outDir(name: string): string {
  const dir = path.join(tmp, name);
  expect(existsSync(path.join(tmp, 'node_modules'))).toBe(false);
  return dir;
}

/**
 * The webpack recipe of docs/bundling.md: ES module output; the work module an entry of its own (an ES
 * module that exports its classes, which the workers import by URL) that the app's entry depends on, so
 * the work module lives in that file only; one runtime for both, so main sees one copy of it; and
 * `import.meta.url` left to run time in the work module, so it names that file. webpack finds the worker
 * entry by itself. Not minified here, to keep the test short (checked by hand: the minified build runs too).
 */
async function webpackBuild(target: 'node' | 'web', out: string): Promise<void> {
  const { default: webpack } = await import('webpack');
  const main = target === 'node' ? 'main.node' : 'main.browser';
  const compiler = webpack({
    mode: 'production',
    context: app,
    target: target === 'node' ? 'node20' : 'web',
    entry: {
      work: { import: './work.js', library: { type: 'module' } },
      [main]: { import: `./${main}.js`, dependOn: 'work' },
    },
    output: { path: out, module: true },
    module: { rules: [{ test: /work\.js$/, parser: { importMeta: { url: false } } }] },
    optimization: { runtimeChunk: 'single', minimize: false },
    performance: { hints: false },
    devtool: false,
  });
  const stats = await new Promise<Stats>((resolve, reject) =>
    compiler.run((err, result) => (err || !result ? reject(err ?? new Error('webpack gave no stats')) : resolve(result))),
  );
  await new Promise<void>((resolve) => compiler.close(() => resolve()));
  const { errors, warnings } = stats.toJson({ all: false, errors: true, warnings: true });
  // No warning either: a dynamic import() that webpack does not leave alone warns "Critical dependency".
  expect({ errors: errors?.map((e) => e.message), warnings: warnings?.map((w) => w.message) }).toEqual({ errors: [], warnings: [] });
}

/** Loads each `<dir>/index.html` under `tmp` in headless Chromium; each page must run the app and report `expected`. */
async function expectPagesRun(dirs: string[]): Promise<void> {
  expect(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`).toBe(true);
  // @ts-expect-error -- plain .mjs helper without declarations
  const { startCoiServer } = (await import('../../scripts/coi-server.mjs')) as { startCoiServer: (o: { root: string }) => Promise<{ url: string; close(): Promise<void> }> };
  const { chromium } = await import('playwright-core');
  const server = await startCoiServer({ root: tmp });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    for (const dir of dirs) {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`HTTP ${r.status()} ${r.url()}`);
      });
      await page.goto(`${server.url}${dir}/index.html`);
      await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, null, { timeout: 20_000 }).catch(() => {});
      const result = await page.evaluate(() => (globalThis as { __result?: unknown }).__result);
      expect({ dir, result, problems }).toEqual({ dir, result: { ok: true, detail: expected }, problems: [] });
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

describe('the packed package in a fresh app', () => {
  it('ships the bundled entries, the worker entries, their shared chunks and classes, and the declarations', () => {
    const files = readdirSync(path.join(app, 'node_modules/isolate-workgroup/dist'), { recursive: true }).map(String);
    const chunks = files.filter((f) => /^shared\.(node|browser)-\w+\.js$/.test(f));
    expect(chunks.some((f) => f.startsWith('shared.node-')) && chunks.some((f) => f.startsWith('shared.browser-'))).toBe(true);
    const bundles = ['index.js', 'index.browser.js', 'classes.js', 'workers/entry.node.js', 'workers/entry.browser.js', ...chunks];
    for (const f of [...bundles, 'index.d.ts']) expect(files).toContain(f);
    // The bundles import nothing of the one-to-one tree (which the bullmq entry uses): their only relative imports are each other.
    for (const f of bundles) {
      const code = readFileSync(path.join(app, 'node_modules/isolate-workgroup/dist', f), 'utf8');
      const relative = [...code.matchAll(/from "(\.[^"]+)"/g)].map((m) => path.basename(m[1]!));
      for (const r of relative) expect(r).toMatch(/^(classes|index|index\.browser|shared\.(node|browser)-\w+)\.js$/);
    }
  });

  it('runs from node_modules: ESM import, workers from the package, errors keep their class', async () => {
    expect(await runApp(path.join(app, 'main.node.js'))).toEqual(expected);
  });

  it('type-checks against the packed declarations', () => {
    writeFileSync(path.join(app, 'main.ts'), TYPED_APP);
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'], typeRoots: [path.join(repoRoot, 'node_modules/@types')] },
        files: ['main.ts'],
      }),
    );
    sh(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  });
});

describe('an app that bundles the library (not external)', () => {
  it('esbuild for Node: the worker entry as one more entry point', async () => {
    const { build } = await import('esbuild');
    const out = outDir('esbuild-node');
    await build({
      absWorkingDir: app,
      entryPoints: ['main.node.js', { in: 'isolate-workgroup/workers/entry.node.js', out: 'workers/entry.node' }],
      outdir: out,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      logLevel: 'error',
    });
    expect(await runApp(path.join(out, 'main.node.js'))).toEqual(expected);
  });

  it('Vite for Node (SSR build, noExternal): the worker entry as one more input', async () => {
    const { build } = await import('vite');
    const out = outDir('vite-node');
    await build({
      root: app,
      configFile: false,
      logLevel: 'error',
      ssr: { noExternal: true },
      build: {
        ssr: true,
        outDir: out,
        rollupOptions: {
          input: { 'main.node': path.join(app, 'main.node.js'), 'workers/entry.node': 'isolate-workgroup/workers/entry.node.js' },
          // Chunks beside the entries: the library's chunk finds ./workers/entry.node.js next to it.
          output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
        },
      },
    });
    expect(await runApp(path.join(out, 'main.node.js'))).toEqual(expected);
  });

  it('webpack for Node: ES module output, the work module an entry that the app depends on', async () => {
    const out = outDir('webpack-node');
    await webpackBuild('node', out);
    expect(await runApp(path.join(out, 'main.node.mjs'))).toEqual(expected);
  }, 60_000);

  it('webpack for the browser: the same recipe, the page runs the app in Chromium', async () => {
    const out = outDir('webpack-web');
    await webpackBuild('web', out);
    writeFileSync(path.join(out, 'index.html'), readFileSync(path.join(app, 'index.html'), 'utf8').replace('./main.browser.js', './main.browser.mjs'));
    await expectPagesRun(['webpack-web']);
  }, 60_000);

  it('esbuild and Vite for the browser: the page runs the app in Chromium', async () => {
    const { build: esbuild } = await import('esbuild');
    const { build: vite } = await import('vite');
    const esOut = outDir('esbuild-web');
    await esbuild({
      absWorkingDir: app,
      entryPoints: ['main.browser.js', { in: 'isolate-workgroup/workers/entry.browser.js', out: 'workers/entry.browser' }],
      outdir: esOut,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      logLevel: 'error',
    });
    cpSync(path.join(app, 'index.html'), path.join(esOut, 'index.html'));
    const viteOut = outDir('vite-web');
    // Vite finds the worker entry by itself (new Worker(new URL(…), { type: 'module' })); it must emit it as an ES module.
    await vite({ root: app, base: './', configFile: false, logLevel: 'error', worker: { format: 'es' }, build: { outDir: viteOut, target: 'es2022' } });
    await expectPagesRun(['esbuild-web', 'vite-web']);
  }, 60_000);
});
