/**
 * A redis-server of a test's own, on a free port and a temporary directory, that the test can
 * kill (SIGKILL) and start again without touching the machine's shared Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.once('error', () => resolve(false));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

export interface PrivateRedisServer {
  readonly port: number;
  /** Starts the server (again): resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: resolves once the process has exited. */
  kill(): Promise<void>;
  /** Kills the server if it runs and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * @param extraArgs redis-server arguments after the port and directory, e.g. `['--appendonly', 'yes']`
 */
export async function createPrivateRedisServer(extraArgs: string[] = ['--save', '', '--appendonly', 'no']): Promise<PrivateRedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-redis-'));
  let child: ChildProcess | undefined;

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  return {
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...extraArgs], { stdio: 'ignore' });
      for (let tries = 0; tries < 200; tries++) {
        if (await answersPing(port)) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`redis-server on port ${port} did not answer PING`);
    },
    kill,
    async dispose() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
