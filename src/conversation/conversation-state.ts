import { checkOptionKeys } from '../config/check-option-keys';

/** Whether a multi-turn step has gathered all it needs. */
export enum ConversationStatus {
  COMPLETE = 'complete',
  INCOMPLETE = 'incomplete',
}

/**
 * What a multi-turn step returns. `INCOMPLETE` stops the run early (nothing new starts);
 * the caller asks the user for more and runs again.
 *
 * @example
 * return new ConversationState({ status: ConversationStatus.INCOMPLETE, data: partial, context: { missing: ['email'] } });
 */
export class ConversationState<T = unknown> {
  status: ConversationStatus;
  data: T | undefined;
  context: Record<string, unknown>;

  constructor(options: { status: ConversationStatus; data?: T; context?: Record<string, unknown> }) {
    checkOptionKeys('ConversationState options', options, ['status', 'data', 'context'], (message) => new TypeError(message));
    this.status = options.status;
    this.data = options.data;
    this.context = options.context ?? {};
  }
}

/** True when a step's output stops the run. */
export function isIncomplete(output: unknown): output is ConversationState<unknown> {
  return output instanceof ConversationState && output.status === ConversationStatus.INCOMPLETE;
}
