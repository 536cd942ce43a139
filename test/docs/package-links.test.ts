// The README and the docs work where users read them: on the npm page and in node_modules, not only in
// a clone. Every relative link of a shipped markdown file must name a file that exists and that the
// package ships (package.json `files`), and no shipped document cites files outside the repository.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
/** npm always ships these, whatever `files` says. */
const ALWAYS = ['package.json', 'README.md', 'LICENSE'];

const shipped = (rel: string): boolean =>
  ALWAYS.includes(rel) || pkg.files.some((f) => rel === f || rel.startsWith(`${f.replace(/\/$/, '')}/`));

function shippedMarkdown(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (rel.endsWith('.md')) out.push(rel);
    }
  };
  for (const f of pkg.files) {
    if (f.endsWith('.md')) out.push(f);
    else if (existsSync(path.join(root, f)) && !f.includes('.')) walk(f);
  }
  return out.filter((f) => f !== 'dist' && !f.startsWith('dist/'));
}

describe('the package documentation', () => {
  it('ships docs/ and examples/, which the README links', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'docs', 'examples']));
  });

  it('links, in every shipped markdown file, only to files the package ships', () => {
    const bad: string[] = [];
    const files = shippedMarkdown();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'BEST_PRACTICES.md', 'docs/architecture.md']));
    for (const file of files) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const rel = path.posix.normalize(path.posix.join(path.posix.dirname(file), target.split('#')[0]!));
        if (rel.startsWith('..') || !existsSync(path.join(root, rel)) || !shipped(rel)) bad.push(`${file}: ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('cites no document outside the repository (sources and shipped docs)', () => {
    const bad: string[] = [];
    const scan = (rel: string): void => {
      const abs = path.join(root, rel);
      for (const e of readdirSync(abs, { withFileTypes: true })) {
        const r = path.posix.join(rel, e.name);
        if (e.isDirectory()) scan(r);
        else if (/\.(ts|mjs|md)$/.test(r)) {
          const text = readFileSync(path.join(root, r), 'utf8');
          if (/SPEC §|design-notes|dart-behaviour|\.\.\/shared\/[A-Z]/.test(text)) bad.push(r);
        }
      }
    };
    for (const dir of ['src', 'docs', 'examples']) scan(dir);
    for (const f of ['README.md', 'BEST_PRACTICES.md', 'CONTRIBUTING.md', 'CHANGELOG.md']) {
      if (/SPEC §|design-notes|dart-behaviour/.test(readFileSync(path.join(root, f), 'utf8'))) bad.push(f);
    }
    expect(bad).toEqual([]);
  });
});
