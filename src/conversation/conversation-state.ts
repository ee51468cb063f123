import { checkOptionKeys } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';

/** Whether a multi-turn step has gathered all it needs. */
export enum ConversationStatus {
  COMPLETE = 'complete',
  INCOMPLETE = 'incomplete',
}

const STATUSES: readonly unknown[] = Object.values(ConversationStatus);

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

  /** @throws TypeError for options that are not an object, an unknown key, a status that is not a {@link ConversationStatus}, a context that is not an object */
  constructor(options: { status: ConversationStatus; data?: T; context?: Record<string, unknown> }) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`ConversationState expects options { status, data?, context? }, got ${describeValue(options)}`);
    }
    checkOptionKeys('ConversationState options', options, ['status', 'data', 'context'], (message) => new TypeError(message));
    if (!STATUSES.includes(options.status)) {
      throw new TypeError(`ConversationState status must be ConversationStatus.COMPLETE or INCOMPLETE ('complete', 'incomplete'), got ${describeValue(options.status)}`);
    }
    if (options.context !== undefined && (typeof options.context !== 'object' || options.context === null || Array.isArray(options.context))) {
      throw new TypeError(`ConversationState context must be an object, got ${describeValue(options.context)}`);
    }
    this.status = options.status;
    this.data = options.data;
    this.context = options.context ?? {};
  }
}

/** True when a step's output stops the run. */
export function isIncomplete(output: unknown): output is ConversationState<unknown> {
  return output instanceof ConversationState && output.status === ConversationStatus.INCOMPLETE;
}
