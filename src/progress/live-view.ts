import type { PipelineEvent } from '../pipeline/pipeline-event';
import { CLEAR_LINE, HIDE_CURSOR, SHOW_CURSOR, cursorUp } from './ansi';
import { fitWidth } from './fit-width';
import { formatDollars } from './format-dollars';
import { formatDuration } from './format-duration';
import type { ProgressState, StepProgress, StepState } from './progress-state';
import type { ProgressView } from './progress-view';

/** A terminal: `columns` and `rows` when the stream knows them. */
export type TerminalStream = NodeJS.WritableStream & { columns?: number; rows?: number };

const ICONS: Record<StepState, string> = { waiting: '·', running: '▶', retrying: '↻', done: '✓', failed: '✗', skipped: '–' };
/** Which steps to keep when the terminal is too short for all: the ones moving first. */
const PRIORITY: Record<StepState, number> = { running: 0, retrying: 0, failed: 1, waiting: 2, done: 3, skipped: 3 };
const REDRAW_EVERY_MS = 100;

/**
 * The live view on a terminal: a bar of finished/total steps with the elapsed time and the
 * cost so far, then one line per step, redrawn in place (cursor up, clear line, rewrite) on
 * every event and every 100 ms; log lines ("level k done") are printed above the block. The
 * cursor is hidden while it draws and shown again by `end` and `restore`. Lines are cut to
 * the width so none wraps, and a terminal too short for every step shows the moving ones.
 */
export class LiveView implements ProgressView {
  private drawnLines = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ended = false;

  /**
   * @param width columns a line may take; undefined: the terminal's `columns`, else 80
   */
  constructor(
    private readonly output: TerminalStream,
    private readonly state: ProgressState,
    private readonly width: number | undefined,
  ) {}

  start(): void {
    this.output.write(HIDE_CURSOR);
    this.timer = setInterval(() => this.redraw(), REDRAW_EVERY_MS);
    // The view must never keep a process alive on its own.
    this.timer.unref?.();
  }

  handle(event: PipelineEvent): void {
    if (this.ended) return;
    if (event.type === 'level.completed') this.redraw(`level ${event.level} done (${event.stepIds.join(', ')})`);
    else if (event.type === 'pipeline.stopped') this.redraw('stopped early: a step returned INCOMPLETE');
    else this.redraw();
  }

  end(message: string): void {
    if (this.ended) return;
    this.redraw();
    this.ended = true;
    this.stopTimer();
    this.output.write(`${CLEAR_LINE}${fitWidth(`${this.state.pipeline} ${message}`, this.columns())}\n${SHOW_CURSOR}`);
  }

  restore(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopTimer();
    this.output.write(`\r${CLEAR_LINE}${SHOW_CURSOR}`);
  }

  /** Rewrites the block in place, after printing `logLine` above it if given. One write: no flicker. */
  private redraw(logLine?: string): void {
    if (this.ended) return;
    const width = this.columns();
    let text = cursorUp(this.drawnLines);
    if (logLine !== undefined) text += `${CLEAR_LINE}${fitWidth(logLine, width)}\n`;
    const lines = this.block(width);
    for (const line of lines) text += `${CLEAR_LINE}${fitWidth(line, width)}\n`;
    // Clears what a taller earlier block left below (after a resize, for one).
    text += '\x1b[J';
    this.drawnLines = lines.length;
    this.output.write(text);
  }

  private block(width: number): string[] {
    const { state } = this;
    if (state.steps.size === 0) return [];
    const total = state.steps.size;
    const counts = `${state.finished}/${total} steps | ${(state.elapsedMs() / 1000).toFixed(3)} s | cost ${formatDollars(state.costMicrocents)}`;
    // The bar takes what the name and the counts leave, from 10 to 24 columns.
    const barWidth = Math.max(10, Math.min(24, width - state.pipeline.length - counts.length - 2));
    const filled = Math.round((state.finished / total) * barWidth);
    const header = `${state.pipeline} ${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ${counts}`;
    const steps = [...state.steps.values()];
    const idWidth = Math.max(...steps.map((line) => line.id.length));
    // Keep one row for the cursor: a block as tall as the screen would scroll it.
    // A terminal of unknown size reports 0 rows (a pseudo-terminal nobody sized).
    const room = (this.output.rows || Infinity) - 2;
    if (1 + steps.length <= room) return [header, ...steps.map((line) => this.stepLine(line, idWidth))];
    const shown = Math.max(0, room - 2);
    const kept = new Set(
      steps
        .map((line, index) => ({ line, index }))
        .sort((a, b) => PRIORITY[a.line.state] - PRIORITY[b.line.state] || a.index - b.index)
        .slice(0, shown)
        .map(({ line }) => line),
    );
    const hidden = steps.filter((line) => !kept.has(line));
    const waiting = hidden.filter((line) => line.state === 'waiting').length;
    return [
      header,
      ...steps.filter((line) => kept.has(line)).map((line) => this.stepLine(line, idWidth)),
      `  … and ${hidden.length} more steps (${hidden.length - waiting} finished, ${waiting} waiting)`,
    ];
  }

  private stepLine(line: StepProgress, idWidth: number): string {
    const name = `  ${ICONS[line.state]} ${line.id.padEnd(idWidth)}  L${line.level}  `;
    const worker = line.workerId === undefined ? '' : ` on ${line.workerId}`;
    switch (line.state) {
      case 'waiting':
        return `${name}waiting`;
      case 'running':
        return `${name}running${worker} ${formatDuration(this.state.now() - line.startedAtMs)}${line.attempt > 1 ? ` (attempt ${line.attempt})` : ''}`;
      case 'retrying':
        return `${name}${line.note}`;
      case 'done':
        return `${name}done in ${formatDuration(line.durationMs)}${worker}${line.costMicrocents > 0 ? `  ${formatDollars(line.costMicrocents)}` : ''}`;
      case 'failed':
        return `${name}failed: ${line.note}`;
      case 'skipped':
        return `${name}skipped: ${line.note}`;
    }
  }

  private columns(): number {
    // One column short of the edge: some terminals wrap when a line fills the last column.
    return Math.max(10, (this.width ?? (this.output.columns || 80)) - 1);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
