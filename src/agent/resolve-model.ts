import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { FastroAIError } from '../errors/fastroai-error';

/** An AI SDK model object (not a gateway id string). */
export type LanguageModelObject = Exclude<LanguageModel, string>;

/** A model ready to call, and the name its cost and traces use. */
export interface ResolvedModel {
  model: LanguageModelObject;
  /** `'provider:model'`: `'openai:gpt-4o'`, or `'<provider>:<modelId>'` for a model object. */
  name: string;
}

/**
 * Providers other than OpenAI: optional peer packages (see `peerDependenciesMeta`), loaded when
 * a model string names them. `factory` is the package's default provider instance
 * (`anthropic('claude-…')`); `range` the major that pairs with the AI SDK v6. Any other
 * provider works by passing its model object as `model`.
 */
const OPTIONAL_PROVIDERS: Record<string, { pkg: string; factory: string; range: string }> = {
  anthropic: { pkg: '@ai-sdk/anthropic', factory: 'anthropic', range: '^3' },
  google: { pkg: '@ai-sdk/google', factory: 'google', range: '^3' },
  'google-gla': { pkg: '@ai-sdk/google', factory: 'google', range: '^3' },
  mistral: { pkg: '@ai-sdk/mistral', factory: 'mistral', range: '^3' },
  groq: { pkg: '@ai-sdk/groq', factory: 'groq', range: '^3' },
  xai: { pkg: '@ai-sdk/xai', factory: 'xai', range: '^3' },
  grok: { pkg: '@ai-sdk/xai', factory: 'xai', range: '^3' },
  deepseek: { pkg: '@ai-sdk/deepseek', factory: 'deepseek', range: '^2' },
};

/**
 * Turns a `'provider:model'` string (or an AI SDK model) into a model to call.
 *
 * - `'openai:<model>'`, or a bare `'<model>'`, uses OpenAI's chat-completions API
 *   (`/v1/chat/completions`, which vLLM, Ollama and LM Studio also speak) with `OPENAI_API_KEY`
 *   and `OPENAI_BASE_URL` as they are when the agent is built.
 * - Other providers (`anthropic`, `google`, `mistral`, `groq`, `xai`, `deepseek`) need their optional
 *   `@ai-sdk/<provider>` package; a missing one is a clear error naming it.
 *
 * @throws FastroAIError for an unknown provider or a provider package that is not installed
 */
export function resolveModel(model: string | LanguageModel): ResolvedModel {
  if (typeof model !== 'string') {
    if (typeof model !== 'object' || model === null || typeof model.modelId !== 'string') {
      throw new TypeError(`FastroAgent model must be a 'provider:model' string or an AI SDK LanguageModel, got ${typeof model}`);
    }
    return { model, name: `${providerPrefix(model.provider)}:${model.modelId}` };
  }
  const colon = model.indexOf(':');
  const provider = colon === -1 ? 'openai' : model.slice(0, colon).trim().toLowerCase();
  const modelId = (colon === -1 ? model : model.slice(colon + 1)).trim();
  if (modelId === '') throw new FastroAIError(`FastroAgent model '${model}' names no model: write 'provider:model', e.g. 'openai:gpt-4o'`);
  if (provider === 'openai') {
    const openai = createOpenAI({ apiKey: process.env.OPENAI_API_KEY, baseURL: process.env.OPENAI_BASE_URL || undefined });
    return { model: openai.chat(modelId), name: `openai:${modelId}` };
  }
  const entry = OPTIONAL_PROVIDERS[provider];
  if (entry === undefined) {
    throw new FastroAIError(
      `Unknown model provider '${provider}' in '${model}'. Known: openai, ${Object.keys(OPTIONAL_PROVIDERS).join(', ')}; ` +
        `or pass an AI SDK LanguageModel object as \`model\`.`,
    );
  }
  const factory = loadProviderFactory(entry, model);
  return { model: factory(modelId), name: `${provider}:${modelId}` };
}

function loadProviderFactory(
  { pkg, factory: factoryName, range }: { pkg: string; factory: string; range: string },
  model: string,
): (modelId: string) => LanguageModelObject {
  let loaded: Record<string, unknown>;
  try {
    // A dynamic require: these packages are optional peers, absent unless the user installs them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(pkg) as Record<string, unknown>;
  } catch (error) {
    if (isModuleNotFound(error, pkg)) {
      throw new FastroAIError(
        `Model '${model}' needs the optional package ${pkg}, which is not installed. Install it with: npm install ${pkg}@${range}`,
        { cause: error },
      );
    }
    throw error;
  }
  const factory = loaded[factoryName] as ((modelId: string) => LanguageModelObject) | { languageModel?: (id: string) => LanguageModelObject } | undefined;
  if (typeof factory === 'function') return (modelId) => factory(modelId);
  if (factory !== undefined && typeof factory.languageModel === 'function') return (modelId) => factory.languageModel!(modelId);
  throw new FastroAIError(`Package ${pkg} has no '${factoryName}' provider: is it a version for the AI SDK v6 (${pkg}@${range})?`);
}

function isModuleNotFound(error: unknown, pkg: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(pkg);
}

/** `'openai.chat'` → `'openai'`: the AI SDK's provider ids carry the API after a dot. */
function providerPrefix(provider: string): string {
  const dot = provider.indexOf('.');
  return dot === -1 ? provider : provider.slice(0, dot);
}
