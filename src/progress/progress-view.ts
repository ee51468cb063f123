import type { PipelineEvent } from '../pipeline/pipeline-event';

/** How {@link renderProgress} draws: the plain-line view or the live terminal view. */
export interface ProgressView {
  /** Before the first event (the live view hides the cursor here). */
  start(): void;
  /** After the state has folded `event` in. */
  handle(event: PipelineEvent): void;
  /** The last line; restores the terminal (cursor shown, line ended). Idempotent. */
  end(message: string): void;
  /** Restores the terminal at once, synchronously, drawing nothing more (process exit). */
  restore(): void;
}
