import type { ChatResponse } from './chat-response';

/**
 * @internal A key of the options `ctx.run` hands to `agent.run`: a function that takes the
 * usage of a call that failed. `FastroAgent` calls it with what its finished requests were
 * billed, besides attaching it to its error (`attachReportedUsage`), which it cannot do when it
 * rejects with its signal's abort reason: that object is shared by every call the same timeout
 * or cancellation cut off, so usage attached to it would be read by all of them. A symbol, not
 * a field of `AgentRunOptions`: other agents neither see nor need it.
 */
export const REPORT_USAGE: unique symbol = Symbol('fastroai.reportUsage');

/** What {@link REPORT_USAGE} holds. */
export type ReportUsage = (usage: ChatResponse<unknown>) => void;
