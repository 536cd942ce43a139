// A real redis-server for a test: a free loopback port, a temporary directory, no RDB snapshots
// (`--save ''`), stopped (and its directory removed) by `stop()`. Nothing is mocked. When redis-server
// cannot be found or started, `startRedis` throws an error that says so and how to install it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RedisHandle {
  readonly port: number;
  readonly dir: string;
  readonly connection: { host: string; port: number };
  /** Kills the server (SIGKILL: no shutdown save) and starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** Stops the server, leaves the directory (for restart). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again after `kill`. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** $REDIS_SERVER_PATH, else the first redis-server found on PATH or in the usual install places. */
export const redisBinary =
  process.env.REDIS_SERVER_PATH ??
  [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin', '/usr/sbin', '/opt/homebrew/bin']
    .map((dir) => path.join(dir, 'redis-server'))
    .find((file) => existsSync(file)) ??
  'redis-server';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
    s.once('error', () => resolve(false));
  });
}

/** Options: `appendonly` keeps data across a restart (an AOF in the temporary directory); `port`: a port
 *  of your own (default: a free one). */
export async function startRedis(options: { appendonly?: boolean; port?: number } = {}): Promise<RedisHandle> {
  const probe = spawnSync(redisBinary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `this test needs a real redis-server and could not run "${redisBinary} --version" (${probe.error?.message ?? probe.stderr}): ` +
        'install it (Debian: apt-get install redis-server; .ci/run does) or set REDIS_SERVER_PATH to its path',
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'iwg-redis-'));
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  if (options.appendonly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
  const start = async () => {
    let stderr = '';
    const c = spawn(redisBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    c.once('exit', () => (exited = true));
    child = c;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`redis-server on port ${port} exited at start: ${stderr.trim()}`);
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    c.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer PING within 10 s: ${stderr.trim()}`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };
  await start();
  return {
    port,
    dir,
    connection: { host: '127.0.0.1', port },
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
