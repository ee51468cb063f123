import type { LanguageModelV3CallOptions, LanguageModelV3FunctionTool, LanguageModelV3Prompt } from '@ai-sdk/provider';
import { conformToSchema } from './conform-to-schema';

/** The demo tasks the offline model knows, detected from the first line of the latest user message. */
export type DemoTask = 'extract' | 'classify' | 'calculate' | 'fetch_market' | 'fetch_user';

/** What the offline model answers to one request: text, or a call of one of the given tools. */
export type DemoAnswer = { kind: 'text'; text: string } | { kind: 'tool-call'; toolName: string; input: Record<string, unknown> };

const TASK_RULES: ReadonlyArray<readonly [DemoTask, RegExp]> = [
  ['extract', /\bextract/i],
  ['classify', /\bclassif/i],
  ['calculate', /\bcalculat|\bamount due\b|\bcompute\b/i],
  ['fetch_market', /\bmarket\b|\bexchange rate|\bfx\b/i],
  ['fetch_user', /\bcustomer\b|\buser\b|\baccount\b/i],
];

/** The demo task a prompt asks for, or undefined. @internal */
export function detectDemoTask(message: string): DemoTask | undefined {
  const firstLine = message.trim().split('\n', 1)[0] ?? '';
  return TASK_RULES.find(([, pattern]) => pattern.test(firstLine))?.[0];
}

/**
 * The offline model's answer to a request: deterministic, computed from the prompt (and the
 * results of tools it called), so the same document always gives the same answers, and a
 * different document different ones. Structured-output requests get JSON fitting their schema.
 * @internal
 */
export function answerDemoPrompt(options: LanguageModelV3CallOptions): DemoAnswer {
  const { message, toolResults } = lastTurn(options.prompt);
  const task = detectDemoTask(message);
  const tools = (options.tools ?? []).filter((tool): tool is LanguageModelV3FunctionTool => tool.type === 'function');
  let answer: Record<string, unknown> | undefined;
  switch (task) {
    case 'extract':
      answer = extractDocumentFields(message);
      break;
    case 'classify':
      answer = classifyDocument(message);
      break;
    case 'calculate':
      answer = calculateAmountDue(message);
      break;
    case 'fetch_market':
    case 'fetch_user': {
      const lookup = task === 'fetch_market' ? { currency: findCurrency(message) } : { customerId: findCustomerId(message) };
      const tool = pickTool(tools, task === 'fetch_market' ? /rate|market|fx|currenc/i : /customer|user|account|crm/i);
      if (tool !== undefined && toolResults.length === 0) {
        return { kind: 'tool-call', toolName: tool.name, input: conformToSchema(lookup, tool.inputSchema) as Record<string, unknown> };
      }
      answer = { ...lookup, ...Object.assign({}, ...toolResults.filter(isRecord)) };
      break;
    }
  }
  const format = options.responseFormat;
  if (format?.type === 'json') return { kind: 'text', text: JSON.stringify(conformToSchema(answer ?? {}, format.schema ?? {})) };
  return { kind: 'text', text: answer === undefined ? fallbackText(message) : describe(task as DemoTask, answer) };
}

/** The latest user message's text and the results of the tools called since. */
function lastTurn(prompt: LanguageModelV3Prompt): { message: string; toolResults: unknown[] } {
  let message = '';
  const toolResults: unknown[] = [];
  for (const entry of prompt) {
    if (entry.role === 'user') {
      message = entry.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
      toolResults.length = 0;
    } else if (entry.role === 'tool') {
      for (const part of entry.content) {
        if (part.type !== 'tool-result') continue;
        const output = part.output;
        if (output.type === 'json' || output.type === 'text') toolResults.push(parseMaybeJson(output.value));
      }
    }
  }
  return { message, toolResults };
}

function extractDocumentFields(text: string): Record<string, unknown> {
  const lineItems = [...text.matchAll(/^\s*(\d+(?:\.\d+)?)\s*x\s+(.+?)\s+@\s*([\d.,]+)\s*$/gim)].map((match) => ({
    description: match[2]!.trim(),
    quantity: Number(match[1]),
    unitPrice: Number(match[3]!.replace(/,/g, '')),
  }));
  return {
    documentNumber: text.match(/(?:invoice|order|receipt|contract)\s*(?:no\.?|number|#)\s*:?\s*([\w-]+)/i)?.[1] ?? '',
    vendor: text.match(/^\s*(?:from|vendor|seller)\s*:\s*(.+?)\s*$/im)?.[1] ?? '',
    customer: text.match(/^\s*(?:bill to|customer|buyer)\s*:\s*([^(\n]+?)\s*(?:\(|$)/im)?.[1] ?? '',
    customerId: findCustomerId(text),
    currency: findCurrency(text),
    issueDate: text.match(/\bdate\s*:\s*(\d{4}-\d{2}-\d{2})/i)?.[1] ?? '',
    dueDate: text.match(/\bdue(?: date)?\s*:\s*(\d{4}-\d{2}-\d{2})/i)?.[1] ?? '',
    lineItems,
  };
}

function classifyDocument(text: string): Record<string, unknown> {
  const documentType = /purchase order|\bPO\b/i.test(text)
    ? 'purchase_order'
    : /\breceipt\b/i.test(text)
      ? 'receipt'
      : /\bcontract\b|\bagreement\b/i.test(text)
        ? 'contract'
        : /\binvoice\b/i.test(text)
          ? 'invoice'
          : 'other';
  const urgent = text.match(/\b(urgent|asap|immediately|waiting on)\b/i)?.[1];
  const relaxed = /\bno rush\b|\blow priority\b/i.test(text);
  const priority = urgent !== undefined ? 'high' : relaxed ? 'low' : 'normal';
  const reason =
    priority === 'high'
      ? `The document says "${urgent}", so it should be handled first.`
      : priority === 'low'
        ? 'The document says there is no rush.'
        : 'Nothing in the document asks for faster handling.';
  return { documentType, priority, reason };
}

/** Sums the line items of the JSON in the prompt, applies the discount, converts with the rate: in integer cents. */
function calculateAmountDue(text: string): Record<string, unknown> {
  const data = findJson(text);
  const items = Array.isArray(data.lineItems) ? data.lineItems.filter(isRecord) : [];
  const subtotalCents = items.reduce((sum, item) => sum + Math.round(Number(item.quantity ?? 0) * Math.round(Number(item.unitPrice ?? 0) * 100)), 0);
  const discountPercent = Number(data.discountPercent ?? 0) || 0;
  const discountCents = Math.round((subtotalCents * discountPercent) / 100);
  const totalCents = subtotalCents - discountCents;
  const usdRate = Number(data.usdRate ?? data.exchangeRate ?? 1) || 1;
  const totalUsdCents = Math.round(totalCents * usdRate);
  const currency = typeof data.currency === 'string' ? data.currency : 'USD';
  const money = (cents: number) => (cents / 100).toFixed(2);
  return {
    currency,
    subtotal: subtotalCents / 100,
    discount: discountCents / 100,
    total: totalCents / 100,
    totalUsd: totalUsdCents / 100,
    summary:
      `${items.length} line items come to ${currency} ${money(subtotalCents)}; less the ${discountPercent}% discount ` +
      `(${currency} ${money(discountCents)}) the amount due is ${currency} ${money(totalCents)}, ` +
      `about USD ${money(totalUsdCents)} at ${usdRate}.`,
  };
}

function describe(task: DemoTask, answer: Record<string, unknown>): string {
  switch (task) {
    case 'extract': {
      const items = answer.lineItems as Array<{ description: string; quantity: number; unitPrice: number }>;
      const lines = items.map((item) => `- ${item.quantity} x ${item.description} at ${item.unitPrice}`).join('\n');
      return `Document ${answer.documentNumber} from ${answer.vendor} to ${answer.customer} (${answer.customerId}), in ${answer.currency}, due ${answer.dueDate}:\n${lines}`;
    }
    case 'classify':
      return `This is a ${String(answer.documentType).replace('_', ' ')} with ${answer.priority} priority. ${answer.reason}`;
    case 'calculate':
      return String(answer.summary);
    case 'fetch_market':
    case 'fetch_user':
      return Object.entries(answer)
        .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
        .join('\n');
  }
}

function fallbackText(message: string): string {
  const asked = message.trim().replace(/\s+/g, ' ').slice(0, 80);
  return (
    'This is the fastroai offline demo model: it answers only the document-processing demo tasks ' +
    `(extract, classify, fetch_market, fetch_user, calculate). You asked: "${asked}"`
  );
}

function findCurrency(text: string): string {
  return text.match(/\bcurrency\b\W{0,3}([A-Z]{3})\b/i)?.[1]?.toUpperCase() ?? text.match(/\b(EUR|USD|GBP|JPY|CHF|CAD|AUD)\b/)?.[1] ?? 'USD';
}

function findCustomerId(text: string): string {
  return (
    text.match(/customer\s*id\s*:?\s*([\w-]+)/i)?.[1] ??
    text.match(/\b(CUST(?:OMER)?-[\w-]+)\b/i)?.[1] ??
    text.match(/\b([A-Z]{2,5}-\d{2,})\b/)?.[1] ??
    ''
  );
}

function pickTool(tools: LanguageModelV3FunctionTool[], pattern: RegExp): LanguageModelV3FunctionTool | undefined {
  return tools.find((tool) => pattern.test(tool.name)) ?? tools[0];
}

/** The first JSON object in the text (a fenced ```json block, or the outermost braces). */
function findJson(text: string): Record<string, unknown> {
  const fenced = text.match(/```(?:json)?\s*([\s\S]*?)```/)?.[1];
  const candidate = fenced ?? text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  const parsed = parseMaybeJson(candidate);
  return isRecord(parsed) ? parsed : {};
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
