// TEMPORARY STUB (branch `cli` only): the real fastroai/inspector comes from branch `inspector` and replaces this
// file at merge. It has the signature of API.md §14 and serves a bare runs list, so that the CLI can be built and tested.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pipeline } from '../pipeline/pipeline';
import type { RunStore } from '../store/run-store';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Serves a page over `store` (stub: the runs list only). */
export async function serveInspector(options: {
  store: RunStore;
  pipelines?: Pipeline<any, any, any>[];
  host?: string;
  port?: number;
  token?: string;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => {
    options.store.listRuns({ limit: 50 }).then(
      ({ runs }) => response.end(`<ul>${runs.map((run) => `<li>${escapeHtml(`${run.pipeline} ${run.runId} ${run.status}`)}</li>`).join('')}</ul>`),
      () => response.writeHead(500).end(),
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 4800, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
