// Shared pieces of the isolate-workgroup/bullmq tests: the built entry, the work module, machine
// processes (test/fixtures/remote-machine.mjs) and the run log the jobs append to.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Remote from '../../src/bullmq/index.js';
import { repoRoot } from './run-node.js';

export const remoteLib = (await import(new URL('../../dist/bullmq/index.js', import.meta.url).href)) as typeof Remote;
export const remoteWorkUrl = new URL('../fixtures/remote-work.mjs', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const rw = (await import(remoteWorkUrl.href)) as any;
export const modules = { work: remoteWorkUrl };
const machineScript = fileURLToPath(new URL('../fixtures/remote-machine.mjs', import.meta.url));

export interface Machine {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<number | string | null>;
}

/** A temporary run log: jobs append their key per run (`$IWG_RUN_LOG`). */
export function runLog(): { file: string; counts(): Map<string, number>; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'iwg-runs-'));
  const file = path.join(dir, 'runs.log');
  return {
    file,
    counts() {
      const m = new Map<string, number>();
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return m;
      }
      for (const k of text.split('\n')) if (k) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts a machine process and waits for its "ready" line (rejects with its output if it exits first). */
export async function startMachine(port: number, queue: string, opts: { workerCount?: number; concurrency?: number; runLog?: string } = {}): Promise<Machine> {
  const args = [machineScript, String(port), queue, String(opts.workerCount ?? 1)];
  if (opts.concurrency !== undefined) args.push(String(opts.concurrency));
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IWG_RUN_LOG: opts.runLog ?? '' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`machine did not print "ready" within 20 s: ${out}`));
    }, 20_000);
    const onData = () => {
      if (out.includes('ready ')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`machine exited (${String(code)}) before it was ready: ${out}`));
    });
  });
  return { child, pid: child.pid!, output: () => out, exited };
}

/** Kills a machine with a signal and waits for it to end. */
export async function stopMachine(m: Machine, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string | null> {
  if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill(signal);
  return m.exited;
}

/** Polls `check` every 20 ms until it is true, or throws after `ms` naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
