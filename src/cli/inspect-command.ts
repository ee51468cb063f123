import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { FastroAIError } from '../errors/fastroai-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { serveInspector } from '../inspector/index';
import type { RunStore } from '../store/run-store';
import type { CliIo } from './cli-io';
import { CliUsageError } from './cli-usage-error';
import { openRunStore, RUN_STORE_URL_FORMS } from './open-run-store';

/** The store `fastroai inspect` reads when given none: the file `npm run demo` records its runs in. */
export const DEFAULT_STORE_URL = 'sqlite:.fastroai/runs.db';

/** The port `fastroai inspect` listens on when given none. */
export const DEFAULT_INSPECT_PORT = 4800;

/** The environment variable `--token` defaults to. */
export const INSPECTOR_TOKEN_ENV = 'FASTROAI_INSPECTOR_TOKEN';

export const INSPECT_HELP = `Usage: fastroai inspect [--store <url>] [--port <n>] [--host <address>]
                        [--token <token>]

Serves the run inspector, a web page over a run store (runs, their steps, usage
and cost, live), until Ctrl-C.

Options:
  --store <url>     The run store (default: ${DEFAULT_STORE_URL},
                    where fastroai's own demo records its runs). One of:
${RUN_STORE_URL_FORMS.map((form) => `    ${form}`).join('\n')}
  --port <n>        The port (default: ${DEFAULT_INSPECT_PORT}; 0 picks a free one)
  --host <address>  The address to bind (default: 127.0.0.1). Any other address
                    requires a token.
  --token <token>   The token the page requires
                    (default: $${INSPECTOR_TOKEN_ENV}). Bound off loopback
                    without one, a random token is made and printed in the URL.
  -h, --help        Show this help

Examples:
  fastroai inspect
  fastroai inspect --store redis://127.0.0.1:6379?prefix=myapp: --port 4900
  fastroai inspect --host 0.0.0.0 \\
    --store postgres://app@db.internal:5432/app?schema=runs`;

/** The options of `fastroai inspect`, as parsed. */
export interface InspectOptions {
  help: boolean;
  store: string;
  port: number;
  host: string;
  token: string | undefined;
}

/**
 * Reads the arguments of `fastroai inspect` (after the command name).
 * @throws CliUsageError for an unknown option, a stray argument or a bad port
 */
export function parseInspectArgs(args: string[], env: NodeJS.ProcessEnv = {}): InspectOptions {
  let values: { store?: string; port?: string; host?: string; token?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        store: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const port = values.port === undefined ? DEFAULT_INSPECT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65_535) {
    throw new CliUsageError(`Expected --port to be a port number from 0 to 65535, got '${values.port}'`);
  }
  const token = values.token ?? (env[INSPECTOR_TOKEN_ENV] || undefined);
  if (token === '') throw new CliUsageError('Expected --token to be a non-empty string');
  return { help: values.help === true, store: values.store ?? DEFAULT_STORE_URL, port, host: values.host ?? '127.0.0.1', token };
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * `fastroai inspect`: opens the store, checks that it answers, serves the inspector over it and
 * prints its URL; on `io.signal` (SIGINT, SIGTERM) closes the server, then the store.
 * @returns the exit status
 */
export async function runInspectCommand(args: string[], io: CliIo): Promise<number> {
  const options = parseInspectArgs(args, io.env);
  if (options.help) {
    io.out(INSPECT_HELP);
    return 0;
  }
  let token = options.token;
  const madeToken = token === undefined && !isLoopbackHost(options.host);
  if (madeToken) token = randomBytes(24).toString('base64url');

  const store = openRunStore(options.store, { cwd: io.cwd });
  let inspector: { url: string; close(): Promise<void> };
  try {
    // Reach the store now: a wrong host or password is told here, not on the first page view.
    await store.listRuns({ limit: 1 }).catch((error: unknown) => {
      throw new FastroAIError(`Cannot read runs from ${describeStore(store, options.store)}: ${reasonOf(error)}`, { cause: error });
    });
    inspector = await serveInspector({ store, host: options.host, port: options.port, token }).catch((error: unknown) => {
      throw listenErrorOf(error, options);
    });
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }

  io.out(`fastroai inspector on ${describeStore(store, options.store)}`);
  io.out(`  ${madeToken ? loginUrlOf(inspector.url, token!) : inspector.url}`);
  if (madeToken) io.out(`  (bound to ${options.host}: the page requires this token; pass --token to choose it)`);
  io.out('Press Ctrl-C to stop.');

  if (!io.signal.aborted) await once(io.signal, 'abort');
  try {
    await inspector.close();
  } finally {
    await store.close();
  }
  return 0;
}

/** What went wrong, below the store's "unavailable" (its cause's message: a socket error comes from another realm, not `instanceof Error`). */
function reasonOf(error: unknown): string {
  const cause = StoreUnavailableError.isInstance(error) ? error.cause : error;
  const message = (cause as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(cause);
}

/** The store's name, and the URL it was opened from when that says more (a host). */
function describeStore(store: RunStore, url: string): string {
  if (store.name === undefined) return url;
  return url.startsWith('sqlite:') ? store.name : `${store.name} (${withoutPassword(url)})`;
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function loginUrlOf(url: string, token: string): string {
  const login = new URL(url);
  login.searchParams.set('token', token);
  return login.toString();
}

/** A failure to listen, told in terms of the options. */
function listenErrorOf(error: unknown, options: InspectOptions): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new CliUsageError(`Port ${options.port} on ${options.host} is in use: pass another with --port (0 picks a free one)`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new CliUsageError(`Cannot bind ${options.host}: it is not an address of this machine (--host)`);
  }
  if (code === 'EACCES') return new CliUsageError(`Not allowed to listen on port ${options.port}: pass another with --port`);
  return error;
}
