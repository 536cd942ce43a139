// The browser entry (package.json `exports` → "." → `browser`) must load in a page: its module graph,
// including the worker entry it spawns, reaches nothing from `node:*`, and it exports exactly the names
// of the Node entry. Checked on the built dist/ (what a bundler or a page receives).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = (p: string): string => fileURLToPath(new URL(`../../dist/${p}`, import.meta.url));

async function graphOf(entries: string[]): Promise<{ inputs: string[]; errors: string[] }> {
  try {
    const r = await build({ entryPoints: entries, bundle: true, write: false, metafile: true, platform: 'browser', format: 'esm', outdir: '/nonexistent', logLevel: 'silent' });
    return { inputs: Object.keys(r.metafile.inputs), errors: [] };
  } catch (e) {
    return { inputs: [], errors: ((e as { errors?: { text: string }[] }).errors ?? []).map((x) => x.text) };
  }
}

describe('the browser entry', () => {
  it('reaches no node: module from index.browser.js or the browser worker entry', async () => {
    const { inputs, errors } = await graphOf([dist('index.browser.js'), dist('workers/entry.browser.js')]);
    expect(errors).toEqual([]);
    // The bundled entries, the chunk they share and the classes (see scripts/build.mjs): nothing else.
    expect(inputs.map((i) => i.replace(/^.*dist\//, '').replace(/^(shared\.browser)-\w+\.js$/, '$1.js')).sort()).toEqual(['classes.js', 'index.browser.js', 'shared.browser.js', 'workers/entry.browser.js']);
    const code = inputs.map((f) => readFileSync(dist(f.replace(/^.*dist\//, '')), 'utf8')).join('\n');
    expect(code).not.toMatch(/from "node:|node-platform/);
  });

  it('is told apart from the Node entry, which does reach node: modules (the check can fail)', async () => {
    const { errors } = await graphOf([dist('index.js')]);
    expect(errors.join('\n')).toMatch(/node:worker_threads/);
  });

  it('exports exactly the names of the Node entry', async () => {
    const node = await import(dist('index.js'));
    const browser = await import(dist('index.browser.js'));
    expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
    expect(browser.IsolateWorkgroup).not.toBe(node.IsolateWorkgroup);
    expect(browser.WorkgroupJob).toBe(node.WorkgroupJob); // one base class for both platforms
  });

  it('lists the same exports as src/index.ts, types included (update src/index.browser.ts with it)', () => {
    const body = (file: string): string[] =>
      readFileSync(fileURLToPath(new URL(`../../src/${file}`, import.meta.url)), 'utf8')
        .replace(/^\/\*\*[\s\S]*?\*\/\s*/, '') // the header comment differs
        .replace(/\.\/api\/(node|browser)-(workgroup|callback)\.js/g, './api/<platform>-$2.js')
        .split('\n');
    expect(body('index.browser.ts')).toEqual(body('index.ts'));
  });

  it('spawns its worker from a literal new URL that names the worker entry beside it, so bundlers find the entry', () => {
    const src = readFileSync(dist('index.browser.js'), 'utf8');
    expect(src).toMatch(/new Worker\(new URL\("\.\/workers\/entry\.browser\.js", import\.meta\.url\), \{ type: "module" \}\)/);
  });

  it('refuses to construct where a SharedArrayBuffer cannot be shared (a page that is not isolated), naming both headers', async () => {
    const browser = await import(dist('index.browser.js'));
    // What a page without COOP/COEP does: posting a SharedArrayBuffer throws a DataCloneError.
    const Real = globalThis.MessageChannel;
    class RefusingChannel extends Real {
      constructor() {
        super();
        const post = this.port1.postMessage.bind(this.port1);
        this.port1.postMessage = (m: unknown) => {
          if (m instanceof SharedArrayBuffer) throw new DOMException('SharedArrayBuffer transfer requires self.crossOriginIsolated', 'DataCloneError');
          post(m);
        };
      }
    }
    globalThis.MessageChannel = RefusingChannel as typeof MessageChannel;
    try {
      expect(() => new browser.IsolateWorkgroup(1)).toThrow(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp.*credentialless/s);
    } finally {
      globalThis.MessageChannel = Real;
    }
  });

  it('decides by capability, not by crossOriginIsolated: shareable memory without that global passes the isolation check', async () => {
    const browser = await import(dist('index.browser.js'));
    expect('crossOriginIsolated' in globalThis).toBe(false); // like Deno and Bun
    // Node can share memory but has no global Web Worker: the next check is the one that refuses.
    expect(() => new browser.IsolateWorkgroup(1)).toThrow(/needs Web Workers/);
  });
});
