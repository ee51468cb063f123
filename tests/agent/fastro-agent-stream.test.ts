import { tool } from 'ai';
import { z } from 'zod';
import { FastroAgent, type StreamChunk, type Tracer } from 'fastroai';
import { useOpenAIServer } from '../support/use-openai-server';

const useServer = useOpenAIServer();

async function collect<O>(stream: AsyncIterable<StreamChunk<O>>): Promise<StreamChunk<O>[]> {
  const chunks: StreamChunk<O>[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('FastroAgent.runStream over SSE', () => {
  it('yields each delta, then one final chunk with the usage of the call', async () => {
    useServer().enqueue({
      kind: 'stream',
      deltas: ['Hel', 'lo', ' world'],
      model: 'gpt-4o-2024-08-06',
      usage: { promptTokens: 50, completionTokens: 3, cachedTokens: 10 },
    });
    const chunks = await collect(new FastroAgent().runStream('Say hello'));
    expect(chunks.slice(0, 3)).toEqual([
      { content: 'Hel', isFinal: false },
      { content: 'lo', isFinal: false },
      { content: ' world', isFinal: false },
    ]);
    expect(chunks).toHaveLength(4);
    const final = chunks[3];
    expect(final.content).toBe('');
    expect(final.isFinal).toBe(true);
    expect(final.usageData).toMatchObject({
      output: 'Hello world',
      content: 'Hello world',
      model: 'gpt-4o-2024-08-06',
      inputTokens: 50,
      outputTokens: 3,
      cacheReadTokens: 10,
      requestCount: 1,
      // 40 uncached * 2.5 + 10 cached * 1.25 + 3 output * 10 = 142.5, truncated.
      costMicrocents: 142,
    });
    expect(useServer().requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('streams structured output and validates it at the end', async () => {
    useServer().enqueue({ kind: 'stream', deltas: ['{"city":', '"Paris"}'] });
    const agent = new FastroAgent({ outputType: z.object({ city: z.string() }) });
    const chunks = await collect(agent.runStream('Where?'));
    const final = chunks.at(-1)!;
    expect(final.isFinal).toBe(true);
    const city: string = final.usageData!.output.city;
    expect(city).toBe('Paris');
  });

  it('streams the tool loop: tool calls and usage of every request', async () => {
    useServer().enqueue(
      { kind: 'stream', deltas: [], toolCalls: [{ id: 'call_9', name: 'lookup', arguments: { id: 7 } }], usage: { promptTokens: 30, completionTokens: 8 } },
      { kind: 'stream', deltas: ['Found ', 'it.'], usage: { promptTokens: 45, completionTokens: 3 } },
    );
    const lookup = tool({ inputSchema: z.object({ id: z.number() }), execute: async ({ id }) => ({ id, name: 'widget' }) });
    const chunks = await collect(new FastroAgent({ tools: { lookup } }).runStream('Find 7'));
    expect(chunks.filter((chunk) => !chunk.isFinal).map((chunk) => chunk.content).join('')).toBe('Found it.');
    const usage = chunks.at(-1)!.usageData!;
    expect(usage.requestCount).toBe(2);
    expect(usage.inputTokens).toBe(75);
    expect(usage.outputTokens).toBe(11);
    expect(usage.toolCalls).toEqual([{ toolCallId: 'call_9', toolName: 'lookup', input: { id: 7 } }]);
  });

  it('throws when the server fails, after no chunk', async () => {
    useServer().enqueue({ kind: 'error', status: 500, message: 'upstream down' });
    await expect(collect(new FastroAgent().runStream('x'))).rejects.toThrow(/upstream down/);
    expect(useServer().requests).toHaveLength(1);
  });

  it('closes the connection when the consumer stops reading', async () => {
    useServer().enqueue({ kind: 'stream', deltas: ['one ', 'two '], stall: true });
    for await (const chunk of new FastroAgent().runStream('x')) {
      expect(chunk.content).toBe('one ');
      break;
    }
    await useServer().requests[0].closed;
    expect(useServer().requests[0].isClosed()).toBe(true);
  });

  it('closes the connection and throws when the signal aborts mid-stream', async () => {
    useServer().enqueue({ kind: 'stream', deltas: ['partial'], stall: true });
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const chunk of new FastroAgent().runStream('x', { signal: controller.signal })) {
        seen.push(chunk.content);
        controller.abort(new Error('user cancelled'));
      }
    })();
    await expect(reading).rejects.toThrow();
    expect(seen).toEqual(['partial']);
    await useServer().requests[0].closed;
  });

  it('runs inside a fastroai.agent.run span and logs the usage', async () => {
    useServer().enqueue({ kind: 'stream', deltas: ['ok'], usage: { promptTokens: 12, completionTokens: 1 } });
    const log: string[] = [];
    const tracer: Tracer = {
      async span(name, fn) {
        log.push(`open ${name}`);
        try {
          return await fn('t-1');
        } finally {
          log.push(`close ${name}`);
        }
      },
      logMetric: (traceId, name, value) => log.push(`${traceId} ${name}=${String(value)}`),
      logError: () => undefined,
    };
    const chunks = await collect(new FastroAgent().runStream('x', { tracer }));
    expect(chunks.at(-1)!.usageData!.traceId).toBe('t-1');
    expect(log).toEqual(['open fastroai.agent.run', 't-1 input_tokens=12', 't-1 output_tokens=1', 't-1 cost_microcents=40', 'close fastroai.agent.run']);
  });
});
