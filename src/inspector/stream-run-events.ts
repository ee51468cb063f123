import type { IncomingMessage, ServerResponse } from 'node:http';

/** How often the store is read for a watched run, in ms. */
export const POLL_INTERVAL_MS = 300;
/** A comment line keeps idle connections (and proxies) open. */
const HEARTBEAT_MS = 15_000;

/** One look at a run: a signature that changes when anything shown changes, and what to send then. */
export interface RunSnapshot {
  signature: string;
  /**
   * Makes the event's data (JSON), called only when the signature changed (rendering a big run's
   * page on every poll of every open tab would cost far more than reading it); undefined when the
   * run is gone.
   */
  data: (() => string) | undefined;
}

/**
 * Streams a run's changes as server-sent events: reads the run (`look`) every
 * {@link POLL_INTERVAL_MS} and sends an `update` event when its signature changed. The store is
 * the only source, so runs executing in another process (or on BullMQ workers) update as well as
 * this process's own. Reads never overlap; the stream ends when the client goes away or
 * `closing` fires.
 */
export function streamRunEvents(
  request: IncomingMessage,
  response: ServerResponse,
  look: () => Promise<RunSnapshot>,
  closing: AbortSignal,
  /** The signature of what the page shows already (the page was rendered from it). */
  since: string | undefined,
): void {
  response.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Content-Type-Options': 'nosniff',
  });
  response.write('retry: 1000\n\n');
  let last = since;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    clearInterval(heartbeat);
    closing.removeEventListener('abort', end);
    response.end();
  };
  const poll = async () => {
    try {
      const snapshot = await look();
      if (ended) return;
      if (snapshot.signature !== last && snapshot.data !== undefined) {
        response.write(`event: update\ndata: ${snapshot.data()}\n\n`);
        last = snapshot.signature;
      }
    } catch (error) {
      if (ended) return;
      response.write(`event: problem\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
    }
    if (!ended) timer = setTimeout(poll, POLL_INTERVAL_MS);
  };
  request.on('close', end);
  closing.addEventListener('abort', end);
  void poll();
}
