// Runs the seeded chaos soak (test/stress/chaos-soak.mjs) in a child process for CHAOS_SECONDS (default
// 20, what CI runs; `npm run soak -- --seconds N` runs it for as long as asked), then checks its report:
// every promise settled, every success right, nothing ran twice, the live-worker bookkeeping agrees with
// itself, shared memory is back to its start — and the process, left alone after shutdown(), exits.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SECONDS = Number(process.env['CHAOS_SECONDS'] ?? '20');
const SEED = process.env['STRESS_SEED'] !== undefined && process.env['STRESS_SEED'] !== '' ? Number(process.env['STRESS_SEED']) >>> 0 : (Math.random() * 0xffffffff) >>> 0;
const RUNNER = fileURLToPath(new URL('./chaos-soak.mjs', import.meta.url));
/** After shutdown() resolved, the child has this long to end by itself (a leaked handle would keep it alive). */
const EXIT_BOUND_MS = 10_000;

interface Report {
  operations: number;
  settled: number;
  lost: number;
  lostSamples: string[];
  wrongResults: number;
  unexpectedErrors: number;
  unexpectedSamples: string[];
  ranTwice: number;
  okNotRunOnce: number;
  faultsInjected: number;
  faults: Record<string, number>;
  liveAtEnd: number;
  healthEntriesAtEnd: number;
  statsWorkersAtEnd: number;
  probedAliveAtEnd: number;
  pendingAtEnd: number;
  liveAfterShutdown: number;
  sharedMemoryAtStart: { liveBytes: number; liveBlocks: number };
  sharedMemoryAtEnd: { liveBytes: number; liveBlocks: number };
}

describe('chaos soak', () => {
  it(`${SECONDS} s of random operations and faults: nothing lost, nothing wrong, nothing leaked`, async () => {
    console.log(`[chaos-soak] seed ${SEED} (replay with STRESS_SEED=${SEED}), ${SECONDS} s (CHAOS_SECONDS)`);
    const child = spawn(process.execPath, [RUNNER, '--seconds', String(SECONDS), '--seed', String(SEED), '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let shutdownAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (shutdownAt === 0 && out.includes('CHAOS-SHUTDOWN-DONE')) shutdownAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = await new Promise<{ code: number | null; at: number }>((resolve) => {
      child.on('exit', (code) => resolve({ code, at: Date.now() }));
    });
    const line = out.split('\n').find((l) => l.startsWith('CHAOS-REPORT '));
    expect(line, `the soak printed no report.\nstdout:\n${out}\nstderr:\n${err}`).toBeDefined();
    const report = JSON.parse(line!.slice('CHAOS-REPORT '.length)) as Report;
    console.log(`[chaos-soak] ${report.operations} operations, ${report.faultsInjected} faults injected (${JSON.stringify(report.faults)}), ${report.settled} settled, ${report.lost} lost`);
    expect(exit.code, err).toBe(0);
    expect(shutdownAt).toBeGreaterThan(0);
    expect(exit.at - shutdownAt).toBeLessThan(EXIT_BOUND_MS);
    expect(report.operations).toBeGreaterThan(0);
    expect(report.faultsInjected).toBeGreaterThan(0);
    expect({ lost: report.lost, lostSamples: report.lostSamples }).toEqual({ lost: 0, lostSamples: [] });
    expect(report.settled).toBe(report.operations);
    expect({ wrong: report.wrongResults, unexpected: report.unexpectedErrors, samples: report.unexpectedSamples }).toEqual({ wrong: 0, unexpected: 0, samples: [] });
    expect({ ranTwice: report.ranTwice, okNotRunOnce: report.okNotRunOnce }).toEqual({ ranTwice: 0, okNotRunOnce: 0 });
    // No thread leaked: every view of the live workers agrees, and shutdown leaves none.
    expect(report.healthEntriesAtEnd).toBe(report.liveAtEnd);
    expect(report.statsWorkersAtEnd).toBe(report.liveAtEnd);
    expect(report.probedAliveAtEnd).toBe(report.liveAtEnd);
    expect(report.pendingAtEnd).toBe(0);
    expect(report.liveAfterShutdown).toBe(0);
    // Shared memory: every block back.
    expect(report.sharedMemoryAtEnd.liveBytes).toBe(report.sharedMemoryAtStart.liveBytes);
    expect(report.sharedMemoryAtEnd.liveBlocks).toBe(report.sharedMemoryAtStart.liveBlocks);
  }, SECONDS * 1000 + 180_000);
});
