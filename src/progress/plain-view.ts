import type { PipelineEvent } from '../pipeline/pipeline-event';
import { fitWidth, printable } from './fit-width';
import { formatDollars } from './format-dollars';
import { formatDuration } from './format-duration';
import type { ProgressState } from './progress-state';
import type { ProgressView } from './progress-view';

/**
 * Plain log lines, one per event, each stamped with the seconds since the run started: for CI
 * logs, pipes and files, where cursor movement would be noise. Nothing to restore at the end.
 */
export class PlainView implements ProgressView {
  private ended = false;

  /**
   * @param width when given, lines longer than this are cut (ending with `…`)
   */
  constructor(
    private readonly output: NodeJS.WritableStream,
    private readonly state: ProgressState,
    private readonly width: number | undefined,
  ) {}

  start(): void {}

  handle(event: PipelineEvent): void {
    const { state } = this;
    const count = `${state.finished}/${state.steps.size}`;
    switch (event.type) {
      case 'pipeline.started':
        this.log(`${state.pipeline}: ${plural(state.steps.size, 'step')} in ${plural(state.levelCount, 'level')}`);
        return;
      case 'step.started':
        this.log(`${event.stepId} started${event.workerId === undefined ? '' : ` on ${event.workerId}`}${event.attempt === 1 ? '' : ` (attempt ${event.attempt})`}`);
        return;
      case 'step.retrying':
        this.log(`${event.stepId} ${state.steps.get(event.stepId)?.note ?? 'retrying'}`);
        return;
      case 'step.completed': {
        const cost = event.usage.costMicrocents > 0 ? `, ${formatDollars(event.usage.costMicrocents)}` : '';
        const worker = event.workerId === undefined ? '' : ` on ${event.workerId}`;
        this.log(`${event.stepId} done in ${formatDuration(event.durationMs)}${worker}${cost} [${count}, cost so far ${formatDollars(state.costMicrocents)}]`);
        return;
      }
      case 'step.failed':
        this.log(`${event.stepId} failed: ${state.steps.get(event.stepId)?.note ?? ''} [${count}]`);
        return;
      case 'step.skipped':
        this.log(`${event.stepId} skipped: ${event.reason} [${count}]`);
        return;
      case 'level.completed':
        this.log(`level ${event.level} done (${event.stepIds.join(', ')})`);
        return;
      case 'pipeline.stopped':
        this.log('stopped early: a step returned INCOMPLETE; running steps finish, nothing new starts');
        return;
      default: {
        const loose = event as unknown as { type: string; stepId?: string };
        if (loose.type === 'call.retrying' && loose.stepId !== undefined) {
          this.log(`${loose.stepId} ${state.steps.get(loose.stepId)?.note ?? 'retrying a model call'}`);
        }
      }
    }
  }

  end(message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.log(`${this.state.pipeline} ${message}`);
  }

  restore(): void {}

  private log(text: string): void {
    const line = `[${(this.state.elapsedMs() / 1000).toFixed(3)} s] ${text}`;
    this.output.write(`${this.width === undefined ? printable(line) : fitWidth(line, this.width)}\n`);
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
