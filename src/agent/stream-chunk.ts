import type { ChatResponse } from './chat-response';

/**
 * One piece of a streamed answer (`FastroAgent.runStream`): `content` is the text that arrived
 * since the previous chunk (a delta). The last chunk has `content: ''`, `isFinal: true` and the
 * whole call's `usageData` (output, tokens, cost).
 */
export interface StreamChunk<O = string> {
  content: string;
  isFinal: boolean;
  usageData?: ChatResponse<O>;
}
