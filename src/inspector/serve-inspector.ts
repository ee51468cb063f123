import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pipeline } from '../pipeline/pipeline';
import type { RunRecord, RunStatus, RunStore, StepRecord } from '../store/run-store';
import { AccessGuard } from './access-guard';
import { checkInspectorOptions } from './check-inspector-options';
import { INSPECTOR_SCRIPT } from './assets/inspector-script';
import { INSPECTOR_STYLE } from './assets/inspector-style';
import { CsrfGuard } from './csrf-guard';
import { escapeHtml } from './escape-html';
import { pathSegments } from './path-segments';
import { readForm } from './read-form';
import { renderPage } from './render-page';
import { renderRunBody, renderRunPage, renderStepDetails, type RunPageContext } from './render-run-page';
import { renderUsageTable } from './render-usage-table';
import { renderRunsPage } from './render-runs-page';
import { RUN_STATUSES } from '../store/run-store';
import { RunActions } from './run-actions';
import { isRunId } from './run-id';
import { runSignatureOf } from './run-signature';
import { buildRunView } from './run-view';
import { sendHtml, sendJson, sendText } from './send-response';
import { streamRunEvents } from './stream-run-events';

/** Options of {@link serveInspector}. */
export interface InspectorOptions {
  /** Where the runs are read from (and resumed into). */
  store: RunStore;
  /** Pipelines whose runs the inspector may resume, rerun and cancel (by name). @default none: read-only */
  pipelines?: Pipeline<any, any, any>[];
  /** The address to bind. Any address that is not loopback requires `token`. @default '127.0.0.1' */
  host?: string;
  /** The port; 0 picks a free one. @default 4800 */
  port?: number;
  /** A secret every request must show (bearer header, or a `?token=` login that sets an HttpOnly cookie). Required off loopback. */
  token?: string;
}

/** A running inspector. */
export interface Inspector {
  /** Where to open it, e.g. `http://127.0.0.1:4800/`. */
  url: string;
  /** Stops serving: ends the live streams, aborts runs this inspector is resuming (recorded as aborted), closes the server. */
  close(): Promise<void>;
}

/** The files the pages load; nothing else is served as a file, so no path reaches the disk. */
const ASSETS: Readonly<Record<string, { type: string; body: string }>> = {
  '/assets/inspector.js': { type: 'text/javascript; charset=utf-8', body: INSPECTOR_SCRIPT },
  '/assets/inspector.css': { type: 'text/css; charset=utf-8', body: INSPECTOR_STYLE },
};

/** What `store.getRun` answers for a run it has. */
type StoredRun = { run: RunRecord; steps: StepRecord[] };

/** What `/runs/<id>/<part>` serves besides the page: the live stream and a big run's parts. */
const RUN_PARTS: ReadonlySet<string> = new Set(['events', 'steps', 'usage']);

/**
 * Serves the run inspector (API.md §14): a web page over a run store that lists runs and shows
 * one run (DAG, Gantt chart with the critical path, usage and cost, outputs and errors,
 * conversation state), live while it runs, and, given `pipelines`, resumes, reruns and cancels.
 * Built on `node:http` alone: a handful of routes, server-rendered HTML and one small script.
 *
 * Security: it binds 127.0.0.1 unless told otherwise, and refuses to start on any other
 * address without a `token`; actions are POSTs checked against CSRF; every value from a run is
 * escaped, and the Content-Security-Policy forbids inline script besides.
 *
 * @throws TypeError (rejects) for bad options, or a non-loopback `host` without `token`
 * @example
 * const inspector = await serveInspector({ store: new SqliteRunStore({ path: '.fastroai/runs.db' }), pipelines: [pipeline] });
 * console.log(`Inspector at ${inspector.url}`);
 */
export async function serveInspector(options: InspectorOptions): Promise<Inspector> {
  const { store, pipelines = [], host = '127.0.0.1', port = 4800, token } = checkInspectorOptions(options);
  const pipelinesByName = new Map(pipelines.map((pipeline) => [pipeline.name, pipeline]));
  const access = new AccessGuard(token);
  const csrf = new CsrfGuard();
  const actions = new RunActions(store, pipelinesByName);
  const closing = new AbortController();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A store that fails (a dropped connection, a closed database) is a 503 that says so; the server goes on.
      if (!response.headersSent) {
        if (error instanceof StoreReadError) sendText(response, 503, error.message);
        else sendText(response, 500, `Inspector error: ${messageOf(error)}`);
      } else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://inspector.invalid');
    } catch {
      return sendText(response, 400, 'Bad request URL');
    }
    const decision = access.decide(request, url);
    if (decision.kind === 'deny') {
      response.setHeader('WWW-Authenticate', 'Bearer realm="fastroai inspector"');
      return sendText(response, decision.status, decision.reason);
    }
    if (decision.kind === 'login') {
      response.writeHead(303, { 'Set-Cookie': decision.setCookie, Location: decision.location, 'Cache-Control': 'no-store' });
      return void response.end();
    }
    const asset = ASSETS[url.pathname];
    if (asset !== undefined) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method not allowed');
      response.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
      return void response.end(request.method === 'HEAD' ? undefined : asset.body);
    }
    // The raw path, not url.pathname: URL parsing resolves `..` and `%2e%2e` away, and a
    // request for `/runs/..` must be refused, not served as `/`.
    const segments = pathSegments((request.url ?? '/').split('?')[0]);
    if (segments === undefined) return sendText(response, 400, 'Bad request path');
    if (request.method === 'POST') return handlePost(request, response, segments);
    if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method not allowed');
    if (segments.length === 0) return sendRunsPage(response, url);
    if (segments[0] === 'runs' && (segments.length === 2 || (segments.length === 3 && RUN_PARTS.has(segments[2])))) {
      const runId = segments[1];
      if (!isRunId(runId)) return sendText(response, 400, 'Not a run id');
      if (segments[2] === 'events') {
        // A HEAD gets no stream (nothing would read it, and a kept-alive connection would keep it polling the store).
        if (request.method === 'HEAD') return sendText(response, 200, '');
        return sendRunEvents(request, response, runId, url.searchParams.get('since') ?? undefined);
      }
      if (segments[2] === 'steps' || segments[2] === 'usage') return sendRunPart(response, runId, segments[2]);
      return sendRunPage(response, runId);
    }
    if (segments[0] === 'api' && segments[1] === 'runs') {
      if (segments.length === 2) return sendRunList(response, url);
      if (segments.length === 3) {
        if (!isRunId(segments[2])) return sendJson(response, 400, { error: 'Not a run id' });
        const stored = await fromStore(() => store.getRun(segments[2]));
        return stored === undefined ? sendJson(response, 404, { error: 'No such run' }) : sendJson(response, 200, stored);
      }
    }
    return sendText(response, 404, 'Not found');
  }

  async function sendRunsPage(response: ServerResponse, url: URL): Promise<void> {
    const query = listQueryOf(url);
    if (typeof query === 'string') return sendText(response, 400, query);
    const page = await fromStore(() => store.listRuns(query));
    const html = renderRunsPage({
      page,
      pipeline: query.pipeline,
      status: query.status,
      paged: query.cursor !== undefined,
      pipelineNames: [...pipelinesByName.keys()],
      nowMs: Date.now(),
    });
    sendHtml(response, 200, html);
  }

  async function sendRunList(response: ServerResponse, url: URL): Promise<void> {
    const query = listQueryOf(url);
    if (typeof query === 'string') return sendJson(response, 400, { error: query });
    sendJson(response, 200, await fromStore(() => store.listRuns(query)));
  }

  /** What a run page needs besides the run's view, from what the store returned. */
  function contextOf(stored: StoredRun): RunPageContext {
    const runId = stored.run.runId;
    const notice = actions.noticeOf(runId);
    const ownsRun = actions.owns(runId);
    const context: RunPageContext = {
      csrfToken: actions.handles(stored.run.pipeline) ? csrf.token : undefined,
      ownsRun,
      notice,
      nowMs: Date.now(),
      signature: runSignatureOf(stored.run, stored.steps, `${notice ?? ''}\u0000${ownsRun}`),
    };
    return context;
  }

  async function sendRunPage(response: ServerResponse, runId: string): Promise<void> {
    const stored = await fromStore(() => store.getRun(runId));
    if (stored === undefined) return sendHtml(response, 404, renderPage({ title: 'No such run', body: `<h1>No run '${escapeHtml(runId)}' in the store</h1>` }));
    sendHtml(response, 200, renderRunPage(buildRunView(stored.run, stored.steps), contextOf(stored)));
  }

  /** A part of a big run's page, loaded when opened: every step's output and error, or the per-step usage rows. */
  async function sendRunPart(response: ServerResponse, runId: string, part: 'steps' | 'usage'): Promise<void> {
    const stored = await fromStore(() => store.getRun(runId));
    if (stored === undefined) return sendText(response, 404, 'No such run');
    const view = buildRunView(stored.run, stored.steps);
    sendHtml(response, 200, part === 'steps' ? renderStepDetails(view) : `<div class="scroll">${renderUsageTable(view)}</div>`);
  }

  async function sendRunEvents(request: IncomingMessage, response: ServerResponse, runId: string, since: string | undefined): Promise<void> {
    streamRunEvents(
      request,
      response,
      async () => {
        const stored = await fromStore(() => store.getRun(runId));
        if (stored === undefined) return { signature: 'gone', data: undefined };
        const context = contextOf(stored);
        // The view and the body only when something changed: most polls of a watched run find nothing new.
        return { signature: context.signature, data: () => JSON.stringify({ status: stored.run.status, html: renderRunBody(buildRunView(stored.run, stored.steps), context) }) };
      },
      closing.signal,
      since,
    );
  }

  async function handlePost(request: IncomingMessage, response: ServerResponse, segments: string[]): Promise<void> {
    const action = segments.length === 3 && segments[0] === 'runs' ? segments[2] : undefined;
    if (action !== 'resume' && action !== 'rerun' && action !== 'cancel') return sendText(response, 404, 'Not found');
    const runId = segments[1];
    if (!isRunId(runId)) return sendText(response, 400, 'Not a run id');
    const form = await readForm(request);
    if (form === undefined) return sendText(response, 413, 'Form too large');
    const refusal = csrf.check(request, form.get('csrf') ?? undefined);
    if (refusal !== undefined) return sendText(response, 403, `Action refused: ${refusal}`);
    const stored = await fromStore(() => store.getRun(runId));
    if (stored === undefined) return sendText(response, 404, 'No such run');
    if (!actions.handles(stored.run.pipeline)) return sendText(response, 409, `No pipeline named '${stored.run.pipeline}' was given to the inspector: actions are off for this run`);
    if (action === 'rerun') {
      const step = form.get('step');
      if (step === null || step === '') return sendText(response, 400, 'Name the step to rerun (form field "step")');
      await actions.resume(runId, [step]);
    } else if (action === 'resume') {
      await actions.resume(runId);
    } else {
      await actions.cancel(runId);
    }
    response.writeHead(303, { Location: `/runs/${encodeURIComponent(runId)}`, 'Cache-Control': 'no-store' });
    response.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHostOf(host)}:${address.port}/`,
    close() {
      closed ??= (async () => {
        closing.abort();
        await actions.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}

/** A failed read of the run store, told as such (503), not as the inspector's own error. */
class StoreReadError extends Error {
  constructor(cause: unknown) {
    super(`The run store failed to answer: ${messageOf(cause)}`, { cause });
  }
}

/** The store's answer; its failure (a rejection, or a throw of a hand-written store) as a {@link StoreReadError}. */
async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new StoreReadError(error);
  }
}

/** An error's message, also for one from another realm (a native driver's) or a thrown non-error. */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function listQueryOf(url: URL): { pipeline?: string; status?: RunStatus; cursor?: string; limit: number } | string {
  const pipeline = url.searchParams.get('pipeline') || undefined;
  const status = url.searchParams.get('status') || undefined;
  const cursor = url.searchParams.get('cursor') || undefined;
  if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) return `Unknown status '${status}'`;
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return 'Bad cursor';
  return { pipeline, status: status as RunStatus | undefined, cursor, limit: 50 };
}

function urlHostOf(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
