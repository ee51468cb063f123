import { checkOptionKeys, optionKeysOf } from '../config/check-option-keys';
import { exceedsTimerLimit, timerLimitHint } from '../config/max-timer-seconds';
import type { FastroAgentOptions } from './fastro-agent';

/** Every key of {@link FastroAgentOptions}; the compiler keeps the two in step. */
const FASTRO_AGENT_OPTION_KEYS = optionKeysOf<FastroAgentOptions<unknown>>({
  model: true,
  systemPrompt: true,
  temperature: true,
  maxTokens: true,
  timeout: true,
  maxRetries: true,
  outputType: true,
  tools: true,
  maxSteps: true,
  costCalculator: true,
  onBeforeDispatch: true,
  onAfterDispatch: true,
});

/**
 * Checks what the `FastroAgent` constructor does not check field by field: misspelt keys
 * (`timout`, `systemprompt`), refused with the nearest valid key, and a `timeout` longer than
 * a Node timer can wait (it would fire at once).
 *
 * @throws TypeError naming the key or the value
 */
export function checkFastroAgentOptions(options: unknown): void {
  checkOptionKeys('FastroAgent options', options, FASTRO_AGENT_OPTION_KEYS, (message) => new TypeError(message));
  const timeout = (options as { timeout?: unknown } | undefined)?.timeout;
  if (typeof timeout === 'number' && exceedsTimerLimit(timeout)) {
    throw new TypeError(`FastroAgent timeout must be ${timerLimitHint()}, got ${timeout}`);
  }
}
