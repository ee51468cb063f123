import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Token counts of one answer, as OpenAI's `usage` field reports them. */
export interface ScriptedUsage {
  promptTokens: number;
  completionTokens: number;
  /** `prompt_tokens_details.cached_tokens` (part of `promptTokens`). */
  cachedTokens?: number;
}

/** A tool call the scripted model makes. */
export interface ScriptedToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

/** What the server answers to one request. */
export type ScriptedAnswer =
  | { kind: 'json'; content?: string | null; toolCalls?: ScriptedToolCall[]; usage?: ScriptedUsage; model?: string }
  | {
      kind: 'stream';
      deltas: string[];
      usage?: ScriptedUsage;
      model?: string;
      toolCalls?: ScriptedToolCall[];
      /** Sends the deltas, then holds the connection open without finishing. */
      stall?: boolean;
    }
  | {
      kind: 'error';
      status: number;
      message?: string;
      headers?: Record<string, string>;
      /** The error's `type` and `code` (OpenAI's `insufficient_quota`, …). @default 'server_error', null */
      type?: string;
      code?: string;
    }
  /** Never answers: the request stays open until the client closes the connection. */
  | { kind: 'hang' };

/** One request the server received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** Resolves when the request's connection closes (client abort, or server shutdown). */
  closed: Promise<void>;
  /** True once the connection closed. */
  isClosed(): boolean;
}

/**
 * A real HTTP server on 127.0.0.1 (a free port) that speaks OpenAI's chat-completions API:
 * plain JSON and SSE streaming answers with usage (cached tokens included), tool calls, error
 * statuses, and answers that never come. Point `@ai-sdk/openai` at `baseURL`.
 */
export interface OpenAIServer {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseURL: string;
  readonly requests: ReceivedRequest[];
  /** Queues answers, used in order; when the queue is empty, `fallback` answers. */
  enqueue(...answers: ScriptedAnswer[]): void;
  /** Forgets queued answers and received requests, and restores the default fallback. */
  reset(): void;
  /** Answers requests when the queue is empty. @default a short text answer */
  fallback: (request: ReceivedRequest) => ScriptedAnswer;
  close(): Promise<void>;
}

export const DEFAULT_USAGE: ScriptedUsage = { promptTokens: 20, completionTokens: 5 };

const defaultFallback = (): ScriptedAnswer => ({ kind: 'json', content: 'OK', usage: DEFAULT_USAGE });

export async function startOpenAIServer(): Promise<OpenAIServer> {
  const queue: ScriptedAnswer[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let counter = 0;

  const state: OpenAIServer = {
    baseURL: '',
    requests,
    enqueue: (...answers) => queue.push(...answers),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      state.fallback = defaultFallback;
    },
    fallback: defaultFallback,
    close: () => closeServer(server, sockets),
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const socket = req.socket;
      const closedPromise = closedOf(socket);
      const raw = Buffer.concat(chunks).toString('utf8');
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: raw === '' ? undefined : JSON.parse(raw),
        closed: closedPromise,
        isClosed: () => socket.destroyed,
      };
      requests.push(request);
      counter += 1;
      if (request.path !== '/v1/chat/completions') {
        return sendJson(res, 404, { error: { message: `not found: ${request.path}`, type: 'invalid_request_error' } });
      }
      const answer = queue.shift() ?? state.fallback(request);
      answerWith(res, answer, `chatcmpl-${counter}`, request.body?.model ?? 'gpt-4o');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (state as { baseURL: string }).baseURL = `http://127.0.0.1:${port}/v1`;
  return state;
}

function answerWith(res: ServerResponse, answer: ScriptedAnswer, id: string, requestedModel: string): void {
  const created = 1_700_000_000;
  switch (answer.kind) {
    case 'hang':
      return;
    case 'error':
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(
        JSON.stringify({ error: { message: answer.message ?? `status ${answer.status}`, type: answer.type ?? 'server_error', code: answer.code ?? null } }),
      );
      return;
    case 'json': {
      const toolCalls = answer.toolCalls ?? [];
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: answer.model ?? requestedModel,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: answer.content === undefined ? (toolCalls.length > 0 ? null : 'OK') : answer.content,
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(toOpenAIToolCall) } : {}),
            },
            finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
          },
        ],
        usage: toOpenAIUsage(answer.usage ?? DEFAULT_USAGE),
      });
      return;
    }
    case 'stream': {
      const model = answer.model ?? requestedModel;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
        res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`);
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
      for (const delta of answer.deltas) chunk([{ index: 0, delta: { content: delta }, finish_reason: null }]);
      if (answer.stall) return;
      const toolCalls = answer.toolCalls ?? [];
      toolCalls.forEach((call, index) =>
        chunk([{ index: 0, delta: { tool_calls: [{ index, ...toOpenAIToolCall(call) }] }, finish_reason: null }]),
      );
      chunk([{ index: 0, delta: {}, finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop' }]);
      chunk([], { usage: toOpenAIUsage(answer.usage ?? DEFAULT_USAGE) });
      res.end('data: [DONE]\n\n');
      return;
    }
  }
}

function toOpenAIToolCall(call: ScriptedToolCall) {
  return { id: call.id, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.arguments) } };
}

function toOpenAIUsage(usage: ScriptedUsage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** One promise per connection (not one listener per request: keep-alive connections carry many). */
const socketClosed = new WeakMap<Socket, Promise<void>>();

function closedOf(socket: Socket): Promise<void> {
  let closed = socketClosed.get(socket);
  if (closed === undefined) {
    closed = socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socketClosed.set(socket, closed);
  }
  return closed;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
