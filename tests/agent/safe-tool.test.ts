import { tool, type ToolExecutionOptions } from 'ai';
import { z } from 'zod';
import { FastroAgent, safeTool } from 'fastroai';
import { deferred } from '../support/async-helpers';
import { useOpenAIServer } from '../support/use-openai-server';

const useServer = useOpenAIServer();

/** The model asks for `lookup`, then answers with text once it has the tool's result. */
function scriptToolCallThenAnswer(answer = 'Sorry, the inventory service is down right now.') {
  useServer().enqueue(
    { kind: 'json', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { sku: 'SB-7' } }] },
    { kind: 'json', content: answer },
  );
}

/** The tool result message the model received in the request after the tool call. */
function toolMessageOfSecondRequest(): unknown {
  return useServer().requests[1].body.messages.at(-1);
}

const lookupSchema = z.object({ sku: z.string() });

describe('safeTool in a real tool loop (FastroAgent against the OpenAI-protocol server)', () => {
  it('hands a hanging tool\'s timeout to the model, aborting each attempt\'s signal, and the conversation completes', async () => {
    scriptToolCallThenAnswer();
    const attemptSignals: AbortSignal[] = [];
    const lookup = tool({
      description: 'Stock level of a product',
      inputSchema: lookupSchema,
      execute: ({ sku }, { abortSignal }) => {
        attemptSignals.push(abortSignal!);
        return new Promise<string>(() => void sku); // never answers
      },
    });
    const agent = new FastroAgent({ tools: { lookup: safeTool(lookup, { timeout: 0.05, maxRetries: 2 }) } });

    const response = await agent.run('Is SB-7 in stock?');

    expect(response.output).toBe('Sorry, the inventory service is down right now.');
    expect(attemptSignals).toHaveLength(2);
    expect(attemptSignals.every((signal) => signal.aborted && (signal.reason as Error).name === 'TimeoutError')).toBe(true);
    expect(useServer().requests).toHaveLength(2);
    expect(toolMessageOfSecondRequest()).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'Tool timed out after 2 attempts' });
    expect(response.toolCallCount).toBe(1);
  });

  it('hands a throwing tool\'s error to the model after its attempts, and the conversation completes', async () => {
    scriptToolCallThenAnswer('I could not check the stock: the database is down.');
    let attempts = 0;
    const lookup = tool({
      description: 'Stock level of a product',
      inputSchema: lookupSchema,
      execute: async (): Promise<string> => {
        attempts += 1;
        throw new Error('connection refused: inventory-db:5432');
      },
    });
    const agent = new FastroAgent({ tools: { lookup: safeTool(lookup, { timeout: 0.05, maxRetries: 3 }) } });

    const response = await agent.run('Is SB-7 in stock?');

    expect(response.output).toBe('I could not check the stock: the database is down.');
    expect(attempts).toBe(3);
    expect(toolMessageOfSecondRequest()).toEqual({
      role: 'tool',
      tool_call_id: 'call_1',
      content: 'Tool failed: connection refused: inventory-db:5432',
    });
  });

  it('sends onError with {error} replaced, and onTimeout, as the tool results', async () => {
    scriptToolCallThenAnswer();
    const failing = tool({
      description: 'Stock level of a product',
      inputSchema: lookupSchema,
      execute: (): string => {
        throw new Error('503 from upstream');
      },
    });
    await new FastroAgent({
      tools: { lookup: safeTool(failing, { maxRetries: 1, onError: 'Inventory unavailable ({error}); {error} again. Apologise.' }) },
    }).run('Is SB-7 in stock?');
    expect(toolMessageOfSecondRequest()).toMatchObject({ content: 'Inventory unavailable (503 from upstream); 503 from upstream again. Apologise.' });

    useServer().reset();
    scriptToolCallThenAnswer();
    const hanging = tool({ description: 'Stock level', inputSchema: lookupSchema, execute: () => new Promise<string>(() => undefined) });
    await new FastroAgent({ tools: { lookup: safeTool(hanging, { timeout: 0.02, maxRetries: 1, onTimeout: 'The stock service is slow today.' }) } }).run('x');
    expect(toolMessageOfSecondRequest()).toMatchObject({ content: 'The stock service is slow today.' });
  });

  it('passes a result through when a retry succeeds', async () => {
    scriptToolCallThenAnswer('Yes, 40 in stock.');
    let attempts = 0;
    const lookup = tool({
      description: 'Stock level of a product',
      inputSchema: lookupSchema,
      execute: async ({ sku }) => {
        attempts += 1;
        if (attempts === 1) throw new Error('flaky');
        return { sku, inStock: 40 };
      },
    });
    const response = await new FastroAgent({ tools: { lookup: safeTool(lookup, { timeout: 0.05 }) } }).run('Is SB-7 in stock?');
    expect(response.output).toBe('Yes, 40 in stock.');
    expect(attempts).toBe(2);
    expect(toolMessageOfSecondRequest()).toEqual({ role: 'tool', tool_call_id: 'call_1', content: JSON.stringify({ sku: 'SB-7', inStock: 40 }) });
  });

  it("is cancelled at once by the run's signal: no retry, no message for the model, the tool's signal aborted", async () => {
    useServer().enqueue({ kind: 'json', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { sku: 'SB-7' } }] });
    const started = deferred<AbortSignal>();
    let attempts = 0;
    const lookup = tool({
      description: 'Stock level of a product',
      inputSchema: lookupSchema,
      execute: (_input, { abortSignal }) => {
        attempts += 1;
        started.resolve(abortSignal!);
        return new Promise<string>(() => undefined);
      },
    });
    const controller = new AbortController();
    // The default timeout (30 s) would keep the conversation waiting: the run's signal must not.
    const call = new FastroAgent({ tools: { lookup: safeTool(lookup) } }).run('Is SB-7 in stock?', { signal: controller.signal });
    const toolSignal = await started.promise;
    controller.abort(new Error('the user left'));

    await expect(call).rejects.toThrow();
    expect(toolSignal.aborted).toBe(true);
    expect(attempts).toBe(1);
    expect(useServer().requests).toHaveLength(1);
  });
});

describe('safeTool attempts and backoff', () => {
  afterEach(() => jest.useRealTimers());

  const callOptions: ToolExecutionOptions = { toolCallId: 'call_1', messages: [] };

  it('waits 0.1 × 2^attempt seconds between attempts', async () => {
    jest.useFakeTimers();
    const startedAt: number[] = [];
    const failing = tool({
      description: 'fails',
      inputSchema: lookupSchema,
      execute: async (): Promise<string> => {
        startedAt.push(Date.now());
        throw new Error('no');
      },
    });
    const t0 = Date.now();
    const result = safeTool(failing, { maxRetries: 4 }).execute!({ sku: 'x' }, callOptions) as Promise<unknown>;
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(result).resolves.toBe('Tool failed: no');
    expect(startedAt.map((ms) => ms - t0)).toEqual([0, 100, 300, 700]);
  });

  it('bounds each attempt by timeout: the last attempt timing out gives onTimeout\'s default', async () => {
    jest.useFakeTimers();
    const aborts: number[] = [];
    const hanging = tool({
      description: 'hangs',
      inputSchema: lookupSchema,
      execute: (_input, { abortSignal }) =>
        new Promise<string>(() => abortSignal!.addEventListener('abort', () => aborts.push(Date.now()))),
    });
    const t0 = Date.now();
    const result = safeTool(hanging, { timeout: 1 }).execute!({ sku: 'x' }, callOptions) as Promise<unknown>;
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(result).resolves.toBe('Tool timed out after 3 attempts');
    // 1 s per attempt, then 0.1 s and 0.2 s of backoff.
    expect(aborts.map((ms) => ms - t0)).toEqual([1_000, 2_100, 3_300]);
  });

  it('gives the failure of the last attempt: an error after timeouts is reported as an error', async () => {
    let attempts = 0;
    const mixed = tool({
      description: 'hangs, then fails',
      inputSchema: lookupSchema,
      execute: () => (++attempts === 1 ? new Promise<string>(() => undefined) : Promise.reject(new Error('second attempt broke'))),
    });
    await expect(safeTool(mixed, { timeout: 0.01, maxRetries: 2 }).execute!({ sku: 'x' }, callOptions)).resolves.toBe('Tool failed: second attempt broke');
  });

  it('describes a thrown non-Error value', async () => {
    const throwsString = tool({
      description: 'throws a string',
      inputSchema: lookupSchema,
      execute: (): string => {
        throw 'disk full';
      },
    });
    await expect(safeTool(throwsString, { maxRetries: 1 }).execute!({ sku: 'x' }, callOptions)).resolves.toBe('Tool failed: disk full');
  });

  it('rejects at once, without calling the tool, when the run was already cancelled', async () => {
    const execute = jest.fn(async () => 'never');
    const controller = new AbortController();
    controller.abort(new Error('cancelled before'));
    const wrapped = safeTool(tool({ description: 'x', inputSchema: lookupSchema, execute }));
    await expect(wrapped.execute!({ sku: 'x' }, { ...callOptions, abortSignal: controller.signal })).rejects.toThrow('cancelled before');
    expect(execute).not.toHaveBeenCalled();
  });

  it('cancels a backoff wait when the run is cancelled', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const failing = tool({
      description: 'fails',
      inputSchema: lookupSchema,
      execute: async (): Promise<string> => {
        attempts += 1;
        setImmediate(() => controller.abort(new Error('run cancelled during backoff')));
        throw new Error('no');
      },
    });
    // A backoff of 0.1 × 2^0 s, then one of 0.2 s: cancelled during the first.
    const result = safeTool(failing, { maxRetries: 3 }).execute!({ sku: 'x' }, { ...callOptions, abortSignal: controller.signal });
    await expect(result).rejects.toThrow('run cancelled during backoff');
    expect(attempts).toBe(1);
  });

  it('returns the last value of a tool that yields preliminary results', async () => {
    const streaming = tool({
      description: 'streams',
      inputSchema: lookupSchema,
      async *execute() {
        yield 'checking…';
        yield 'in stock: 40';
      },
    });
    await expect(safeTool(streaming).execute!({ sku: 'x' }, callOptions)).resolves.toBe('in stock: 40');
  });

  it('keeps the tool\'s description and schema, and its type', () => {
    const lookup = tool({ description: 'Stock level of a product', inputSchema: lookupSchema, execute: async ({ sku }) => sku.length });
    const wrapped: typeof lookup = safeTool(lookup);
    expect(wrapped.description).toBe('Stock level of a product');
    expect(wrapped.inputSchema).toBe(lookupSchema);
    expect(wrapped.execute).not.toBe(lookup.execute);
  });
});

describe('safeTool options', () => {
  const lookup = tool({ description: 'x', inputSchema: lookupSchema, execute: async () => 'ok' });

  it.each([
    [{ timeout: -1 }, /timeout must be a number of seconds >= 0 \(0: no bound\), got number -1/],
    [{ timeout: Number.NaN }, /timeout must be a number of seconds >= 0/],
    [{ timeout: '5' }, /timeout must be a number of seconds >= 0 \(0: no bound\), got the string '5'/],
    [{ timeout: 1e7 }, /timeout must be at most 2147483\.647 s \(2\^31-1 ms, the longest timer Node honours\), got 10000000/],
    [{ maxRetries: 0 }, /maxRetries \(the number of attempts\) must be an integer >= 1, got number 0/],
    [{ maxRetries: 2.5 }, /maxRetries \(the number of attempts\) must be an integer >= 1/],
    [{ onTimeout: 42 }, /onTimeout must be a string \(the tool's result for the model\), got number 42/],
    [{ onError: null }, /onError must be a string/],
    [{ timout: 5 }, /safeTool options.*'timout'.*'timeout'/],
    [{ maxRetires: 2 }, /safeTool options.*'maxRetires'.*'maxRetries'/],
  ])('refuses %p', (options, message) => {
    expect(() => safeTool(lookup, options as never)).toThrow(TypeError);
    expect(() => safeTool(lookup, options as never)).toThrow(message);
  });

  it('refuses something that is not a tool with an execute function', () => {
    expect(() => safeTool(undefined as never)).toThrow(/safeTool expects an AI SDK tool with an execute function, got undefined/);
    expect(() => safeTool({ description: 'client-side tool' } as never)).toThrow(/got an object without an execute function/);
    expect(() => safeTool(lookup, 'fast' as never)).toThrow(/safeTool options must be an object, got the string 'fast'/);
  });

  it('accepts timeout 0 (no bound) and the longest timer', () => {
    expect(() => safeTool(lookup, { timeout: 0 })).not.toThrow();
    expect(() => safeTool(lookup, { timeout: (2 ** 31 - 1) / 1000 })).not.toThrow();
  });
});
