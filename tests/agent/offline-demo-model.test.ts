import { z } from 'zod';
import { CostCalculator, FastroAgent, PipelineConfig, Pipeline } from 'fastroai';
import { createOfflineDemoModel, OFFLINE_DEMO_MODEL_ID } from 'fastroai/testing';

const Extracted = z.object({
  documentNumber: z.string(),
  vendor: z.string(),
  customerId: z.string(),
  currency: z.string(),
  lineItems: z.array(z.object({ description: z.string(), quantity: z.number(), unitPrice: z.number() })),
});

const DOCUMENT = `ORDER #PO-77
From: Contoso Ltd
Bill to: Fabrikam (customer ID: CUST-9)
Currency: GBP

2 x Desk lamp @ 35.50
4 x Monitor arm @ 89.99`;

const costCalculator = new CostCalculator({ pricingOverrides: { [OFFLINE_DEMO_MODEL_ID]: { inputPerMtok: 0.15, outputPerMtok: 0.6 } } });

function agent<O = string>(options: ConstructorParameters<typeof FastroAgent<O>>[0] = {}) {
  return new FastroAgent<O>({ model: createOfflineDemoModel({ latency: 0 }), costCalculator, ...options });
}

describe('the offline demo model', () => {
  it('has an id no one mistakes for a real model, which no price list knows', () => {
    const model = createOfflineDemoModel();
    expect(model.modelId).toBe(OFFLINE_DEMO_MODEL_ID);
    expect(model.modelId).toBe('fastroai-offline-demo');
    expect(model.specificationVersion).toBe('v3');
    expect(new FastroAgent({ model, costCalculator }).modelName).toBe('fastroai:fastroai-offline-demo');
  });

  it('extracts the fields of the document in the prompt as JSON fitting the schema', async () => {
    const response = await agent({ outputType: Extracted }).run(`Extract the fields of this document.\n\n${DOCUMENT}`);
    expect(response.output).toEqual({
      documentNumber: 'PO-77',
      vendor: 'Contoso Ltd',
      customerId: 'CUST-9',
      currency: 'GBP',
      lineItems: [
        { description: 'Desk lamp', quantity: 2, unitPrice: 35.5 },
        { description: 'Monitor arm', quantity: 4, unitPrice: 89.99 },
      ],
    });
    expect(response.model).toBe(OFFLINE_DEMO_MODEL_ID);
  });

  it('answers the same prompt the same way every time', async () => {
    const prompt = `Classify this document.\n\n${DOCUMENT}`;
    const first = await agent().run(prompt);
    const second = await agent().run(prompt);
    expect(second.output).toBe(first.output);
    expect(second.inputTokens).toBe(first.inputTokens);
    expect(first.output).toMatch(/purchase order/);
  });

  it('reports realistic token counts: about 4 characters a token, growing with the prompt', async () => {
    const short = await agent().run('Classify this: an invoice.');
    const long = await agent().run(`Classify this: an invoice. ${'More details about the invoice. '.repeat(50)}`);
    expect(short.inputTokens).toBeGreaterThan(5);
    expect(long.inputTokens - short.inputTokens).toBeGreaterThanOrEqual(350);
    expect(long.inputTokens - short.inputTokens).toBeLessThanOrEqual(450);
    expect(short.outputTokens).toBe(Math.ceil(String(short.output).length / 4));
  });

  it('calls the agent tool first, then answers from its result', async () => {
    const lookups: string[] = [];
    const getCustomer = {
      description: 'CRM lookup',
      inputSchema: z.object({ customerId: z.string() }),
      execute: async ({ customerId }: { customerId: string }) => {
        lookups.push(customerId);
        return { customerId, name: 'Fabrikam', tier: 'silver' };
      },
    };
    const response = await agent({
      tools: { getCustomer },
      outputType: z.object({ customerId: z.string(), name: z.string(), tier: z.string() }),
    }).run('Look up the customer with the tool.\nCustomer ID: CUST-9');
    expect(lookups).toEqual(['CUST-9']);
    expect(response.output).toEqual({ customerId: 'CUST-9', name: 'Fabrikam', tier: 'silver' });
    expect(response.requestCount).toBe(2);
    expect(response.toolCalls).toEqual([expect.objectContaining({ toolName: 'getCustomer', input: { customerId: 'CUST-9' } })]);
  });

  it('calculates from the JSON in the prompt, in exact cents', async () => {
    const data = { currency: 'EUR', discountPercent: 10, usdRate: 1.1, lineItems: [{ quantity: 3, unitPrice: 0.1 }, { quantity: 1, unitPrice: 0.2 }] };
    const response = await agent({
      outputType: z.object({ subtotal: z.number(), discount: z.number(), total: z.number(), totalUsd: z.number() }),
    }).run(`Calculate the amount due.\n\`\`\`json\n${JSON.stringify(data)}\n\`\`\``);
    expect(response.output).toEqual({ subtotal: 0.5, discount: 0.05, total: 0.45, totalUsd: 0.5 });
  });

  it('says what it can do when asked something else', async () => {
    const response = await agent().run('Write me a poem about the sea.');
    expect(response.output).toMatch(/offline demo model/);
    expect(response.output).toMatch(/poem about the sea/);
  });

  it('streams its answer in several deltas', async () => {
    const deltas: string[] = [];
    let final;
    for await (const chunk of agent().runStream(`Classify this document.\n\n${DOCUMENT}`)) {
      if (chunk.isFinal) final = chunk.usageData;
      else deltas.push(chunk.content);
    }
    expect(deltas.length).toBeGreaterThan(3);
    expect(final!.output).toBe(deltas.join(''));
    expect(final!.outputTokens).toBeGreaterThan(0);
  });

  it('stops at once when the call is aborted', async () => {
    const slow = new FastroAgent({ model: createOfflineDemoModel({ latency: 10_000 }), costCalculator });
    const controller = new AbortController();
    const started = Date.now();
    const call = slow.run('Classify this.', { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(call).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('honours a step timeout in a pipeline', async () => {
    const slow = new FastroAgent({ model: createOfflineDemoModel({ latency: 10_000 }), costCalculator });
    const pipeline = new Pipeline({ name: 'slow', steps: { ask: slow.asStep('Classify this.') }, config: new PipelineConfig({ timeout: 0.05 }) });
    await expect(pipeline.execute({})).rejects.toThrow(/timed out/);
  });
});
