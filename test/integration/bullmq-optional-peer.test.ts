// The core package keeps zero runtime dependencies: importing the main entry never loads BullMQ or
// ioredis (they are optional peers of isolate-workgroup/bullmq, loaded on first use). Checked in a child
// process, with a positive control: the same check sees them once the bullmq entry has connected.
// Also: with Redis down at start, the producer rejects clearly and the process exits promptly.
import { describe, expect, it } from 'vitest';
import { runNode } from './run-node.js';
import { freePort } from './redis-server.js';

describe('optional peer dependency', () => {
  it('importing the main entry (and the bullmq entry) loads neither bullmq nor ioredis; connecting does', async () => {
    const port = await freePort(); // nothing listens there
    const started = Date.now();
    const run = await runNode(['test/fixtures/main-entry-loads.mjs', String(port)], 20_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(out.afterMain).toEqual([]);
    expect(out.afterImport).toEqual([]);
    expect(out.afterRemote).toEqual(['bullmq', 'ioredis']);
    expect(out.error).toMatch(new RegExp(`^RemoteUnreachableException: cannot reach Redis at 127\\.0\\.0\\.1:${port} within 300 ms \\(.*ECONNREFUSED.*\\): start redis-server there, or fix \`connection\`$`));
    // Nothing kept the process alive after close(): it ended well before the runner's limit.
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
