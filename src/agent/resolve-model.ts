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
 * Providers other than OpenAI: optional peer packages, loaded when a model string names them.
 * `factory` is the package's default provider instance (`anthropic('claude-…')`).
 */
const OPTIONAL_PROVIDERS: Record<string, { pkg: string; factory: string }> = {
  anthropic: { pkg: '@ai-sdk/anthropic', factory: 'anthropic' },
  google: { pkg: '@ai-sdk/google', factory: 'google' },
  'google-gla': { pkg: '@ai-sdk/google', factory: 'google' },
  'google-vertex': { pkg: '@ai-sdk/google-vertex', factory: 'vertex' },
  vertex: { pkg: '@ai-sdk/google-vertex', factory: 'vertex' },
  mistral: { pkg: '@ai-sdk/mistral', factory: 'mistral' },
  groq: { pkg: '@ai-sdk/groq', factory: 'groq' },
  xai: { pkg: '@ai-sdk/xai', factory: 'xai' },
  grok: { pkg: '@ai-sdk/xai', factory: 'xai' },
  deepseek: { pkg: '@ai-sdk/deepseek', factory: 'deepseek' },
  cohere: { pkg: '@ai-sdk/cohere', factory: 'cohere' },
  bedrock: { pkg: '@ai-sdk/amazon-bedrock', factory: 'bedrock' },
  azure: { pkg: '@ai-sdk/azure', factory: 'azure' },
};

/**
 * Turns a `'provider:model'` string (or an AI SDK model) into a model to call.
 *
 * - `'openai:<model>'`, or a bare `'<model>'`, uses OpenAI's chat-completions API
 *   (`/v1/chat/completions`, which vLLM, Ollama and LM Studio also speak) with `OPENAI_API_KEY`
 *   and `OPENAI_BASE_URL` as they are when the agent is built.
 * - Other providers (`anthropic`, `google`, `mistral`, `groq`, …) need their optional
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
  const factory = loadProviderFactory(entry.pkg, entry.factory, model);
  return { model: factory(modelId), name: `${provider}:${modelId}` };
}

function loadProviderFactory(pkg: string, factoryName: string, model: string): (modelId: string) => LanguageModelObject {
  let loaded: Record<string, unknown>;
  try {
    // A dynamic require: these packages are optional peers, absent unless the user installs them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(pkg) as Record<string, unknown>;
  } catch (error) {
    if (isModuleNotFound(error, pkg)) {
      throw new FastroAIError(
        `Model '${model}' needs the optional package ${pkg}, which is not installed. Install it with: npm install ${pkg}@^3`,
        { cause: error },
      );
    }
    throw error;
  }
  const factory = loaded[factoryName] as ((modelId: string) => LanguageModelObject) | { languageModel?: (id: string) => LanguageModelObject } | undefined;
  if (typeof factory === 'function') return (modelId) => factory(modelId);
  if (factory !== undefined && typeof factory.languageModel === 'function') return (modelId) => factory.languageModel!(modelId);
  throw new FastroAIError(`Package ${pkg} has no '${factoryName}' provider: is it a version for the AI SDK v6 (${pkg}@^3)?`);
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
