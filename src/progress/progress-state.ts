import type { PipelineEvent } from '../pipeline/pipeline-event';
import type { PipelineResult } from '../pipeline/pipeline-result';
import { formatDollars } from './format-dollars';
import { formatDuration } from './format-duration';

/** Where a step is, as the progress view shows it. */
export type StepState = 'waiting' | 'running' | 'retrying' | 'done' | 'failed' | 'skipped';

/** One step's line of the view. */
export interface StepProgress {
  readonly id: string;
  readonly level: number;
  state: StepState;
  /** The current (or last) attempt, 1-based; 0 before the first. */
  attempt: number;
  startedAtMs: number;
  durationMs: number;
  costMicrocents: number;
  /** Why it is retrying, failed or skipped. */
  note: string;
  /** The worker process running it (distributed runs). */
  workerId?: string;
}

/** A `call.retrying` event (API.md §4), read structurally so this view also runs on streams without it. */
interface CallRetryingLike {
  type: 'call.retrying';
  stepId: string;
  attempt: number;
  error?: { message?: unknown };
  delaySeconds: number;
}

/**
 * What a progress view knows about a run, folded from its events: each step's state, how many
 * finished, the cost so far (completed steps, and failed ones whose event carries `usage`).
 */
export class ProgressState {
  pipeline = 'pipeline';
  readonly steps = new Map<string, StepProgress>();
  levelCount = 0;
  finished = 0;
  costMicrocents = 0;
  startedAtMs: number;

  constructor(readonly now: () => number) {
    this.startedAtMs = now();
  }

  /** Milliseconds since the run started. */
  elapsedMs(): number {
    return this.now() - this.startedAtMs;
  }

  /** Folds one event in. Unknown event types are ignored (a newer engine may emit more). */
  apply(event: PipelineEvent): void {
    switch (event.type) {
      case 'pipeline.started':
        this.pipeline = event.pipeline;
        this.startedAtMs = this.now();
        this.levelCount = event.levels.length;
        event.levels.forEach((ids, level) => {
          for (const id of ids) {
            this.steps.set(id, { id, level, state: 'waiting', attempt: 0, startedAtMs: 0, durationMs: 0, costMicrocents: 0, note: '' });
          }
        });
        return;
      case 'step.started':
        this.update(event.stepId, { state: 'running', attempt: event.attempt, startedAtMs: this.now(), note: '', workerId: event.workerId });
        return;
      case 'step.retrying':
        this.update(event.stepId, {
          state: 'retrying',
          note: `attempt ${event.attempt} failed (${messageOf(event.error)}), retrying in ${event.delaySeconds.toFixed(1)} s`,
        });
        return;
      case 'step.completed': {
        this.finished += 1;
        this.costMicrocents += event.usage.costMicrocents;
        this.update(event.stepId, { state: 'done', durationMs: event.durationMs, costMicrocents: event.usage.costMicrocents, workerId: event.workerId });
        return;
      }
      case 'step.failed': {
        this.finished += 1;
        // `usage` on step.failed (what the failed attempts were billed) is read when present.
        const cost = costOf((event as { usage?: unknown }).usage);
        this.costMicrocents += cost;
        const line = this.steps.get(event.stepId);
        this.update(event.stepId, {
          state: 'failed',
          durationMs: line !== undefined && line.attempt > 0 ? this.now() - line.startedAtMs : 0,
          costMicrocents: cost,
          note: messageOf(event.error),
        });
        return;
      }
      case 'step.skipped':
        this.finished += 1;
        this.update(event.stepId, { state: 'skipped', note: event.reason });
        return;
      default: {
        const loose = event as unknown as { type: string };
        if (loose.type === 'call.retrying') {
          const call = loose as CallRetryingLike;
          this.update(call.stepId, {
            state: 'retrying',
            note: `model call ${call.attempt} failed (${messageOf(call.error)}), retrying in ${Number(call.delaySeconds).toFixed(1)} s`,
          });
        }
      }
    }
  }

  /** The closing line of a run that resolved: time, steps, cost, and what went wrong. */
  summary(result: PipelineResult<unknown>): string {
    const parts = [
      `finished in ${formatDuration(this.elapsedMs())}`,
      `${this.finished}/${this.steps.size} steps`,
      `cost ${formatDollars(this.costMicrocents)}`,
    ];
    const failed = Object.keys(result.errors ?? {});
    if (failed.length > 0) parts.push(`failed: ${failed.join(', ')}`);
    if ((result.skipped ?? []).length > 0) parts.push(`skipped: ${result.skipped.join(', ')}`);
    if (result.stoppedEarly) parts.push('stopped early (INCOMPLETE)');
    return parts.join(', ');
  }

  private update(id: string, change: Partial<StepProgress>): void {
    const line = this.steps.get(id);
    if (line !== undefined) Object.assign(line, change);
  }
}

/** An error's message, or a description of a thrown non-Error; never throws. */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
    const message = (error as { message?: unknown } | null | undefined)?.message;
    return typeof message === 'string' ? message : String(error);
  } catch {
    return 'an error that cannot be described';
  }
}

function costOf(usage: unknown): number {
  const cost = (usage as { costMicrocents?: unknown } | null | undefined)?.costMicrocents;
  return typeof cost === 'number' && Number.isFinite(cost) ? cost : 0;
}
