// Every ```ts block in README.md and BEST_PRACTICES.md type-checks against the sources, so the docs
// cannot drift from the API. Each block becomes a file in a scratch project whose tsconfig maps
// 'isolate-workgroup' to src/index.ts and 'isolate-workgroup/bullmq' to src/bullmq/index.ts (`paths`) with the repository's compiler options; the repository's
// TypeScript checks them all in one run, and each block passes when no error points into it.
//
// A block whose first line is a comment naming a file (`// work.ts — ...`) is written under that name,
// so the blocks after it can import it (`import { Add } from './work.js'`); blocks of one document share
// a folder. Other blocks are `block-<n>.ts`. Every block is a module (moduleDetection: force).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', 'BEST_PRACTICES.md'];

interface Block {
  doc: string;
  line: number;
  file: string;
  code: string;
}

/** The ```ts / ```typescript blocks of a Markdown text, with the line each starts on. */
function extractBlocks(doc: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  const used = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+)\s*(ts|typescript)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const start = i + 1;
    const body: string[] = [];
    for (i = start; i < lines.length && lines[i]!.trim() !== fence; i++) body.push(lines[i]!.slice(open[1]!.length));
    const named = /^\s*\/\/\s*([\w.-]+\.ts)\b/.exec(body[0] ?? '');
    let file = named?.[1] ?? `block-${blocks.length + 1}.ts`;
    if (used.has(file)) file = `block-${blocks.length + 1}-${file}`;
    used.add(file);
    blocks.push({ doc, line: start, file, code: body.join('\n') });
  }
  return blocks;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'doc-blocks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const blocks: Block[] = DOCS.flatMap((doc) => extractBlocks(doc, readFileSync(path.join(root, doc), 'utf8')));
const errors = new Map<string, string[]>(); // scratch-relative file -> tsc errors in it
const unplaced: string[] = []; // errors that name no file (a broken tsconfig, a missing compiler)
const CANARY = 'canary-must-fail.ts';

const where = (b: Block): string => path.join(b.doc.replace(/\W/g, '_'), b.file);

beforeAll(() => {
  for (const b of blocks) {
    mkdirSync(path.join(scratch, path.dirname(where(b))), { recursive: true });
    writeFileSync(path.join(scratch, where(b)), `${b.code}\n`);
  }
  writeFileSync(path.join(scratch, 'package.json'), '{ "type": "module" }\n');
  // A canary that must fail: proves the checker ran on these files with these options.
  writeFileSync(path.join(scratch, CANARY), "import { IsolateWorkgroup } from 'isolate-workgroup';\nconst n: string = new IsolateWorkgroup(1).isolatesCount;\nexport { n };\n");
  const base = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  // The repository's options, with two changes: no rootDir (the blocks live elsewhere), and no
  // noImplicitOverride (a style rule of this codebase, not something users' code must follow). Kept on
  // purpose: strict, noUncheckedIndexedAccess and erasableSyntaxOnly (a work module must load under
  // Node's type stripping, which rejects parameter properties and enums).
  const compilerOptions = {
    ...base.compilerOptions,
    rootDir: undefined,
    noImplicitOverride: false,
    noEmit: true,
    moduleDetection: 'force',
    typeRoots: [path.join(root, 'node_modules/@types')],
    paths: { 'isolate-workgroup': [path.join(root, 'src/index.ts')], 'isolate-workgroup/bullmq': [path.join(root, 'src/bullmq/index.ts')] },
  };
  writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['**/*.ts'] }, null, 2));
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(scratch, 'tsconfig.json'), '--pretty', 'false'], { cwd: scratch, encoding: 'utf8' });
  if (r.error) unplaced.push(String(r.error));
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    const m = /^(.+?)\(\d+,\d+\): error /.exec(line);
    if (!m) {
      if (/error TS\d+/.test(line)) unplaced.push(line);
      continue;
    }
    const file = path.relative(scratch, path.resolve(scratch, m[1]!));
    if (file.startsWith('..')) continue; // an error inside src/ belongs to the source tests, not the docs
    errors.set(file, [...(errors.get(file) ?? []), line]);
  }
}, 120_000);

describe('code blocks in the docs', () => {
  it('the checker runs: no configuration errors, and a canary with a type error is caught', () => {
    expect(unplaced).toEqual([]);
    expect(errors.get(CANARY)?.join('\n')).toMatch(/TS2322/);
  });

  it('finds TypeScript blocks in README.md and BEST_PRACTICES.md', () => {
    expect(blocks.filter((b) => b.doc === 'README.md').length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.doc === 'BEST_PRACTICES.md').length).toBeGreaterThan(0);
  });

  it.each(blocks.map((b) => [`${b.doc}:${b.line} (${b.file})`, b] as const))('%s type-checks', (_name, b) => {
    expect(errors.get(where(b)) ?? []).toEqual([]);
  });
});
