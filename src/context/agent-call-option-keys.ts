import { optionKeysOf } from '../config/check-option-keys';
import type { AgentCallOptions } from './run-agent-call';

/** Every key of `ctx.run`'s per-call options; anything else (`timout`) is refused. */
export const AGENT_CALL_OPTION_KEYS = optionKeysOf<AgentCallOptions>({ timeout: true, retries: true });
