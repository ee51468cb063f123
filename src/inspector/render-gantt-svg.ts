import { escapeHtml } from './escape-html';
import { formatDuration } from './format-values';
import type { RunView } from './run-view';
import { svgHeader } from './svg-header';

const LABEL_WIDTH = 170;
const CHART_WIDTH = 720;
const ROW_HEIGHT = 18;
const BAR_HEIGHT = 12;
const AXIS_HEIGHT = 22;
const LABEL_CHARACTERS = 24;
const TICKS = 5;

/**
 * The Gantt chart of a run's recorded steps as an SVG: one bar per step record (its latest
 * generation), from `startedAt` to `endedAt` on a shared time axis, in start order; bars of the
 * critical path are classed `critical`; a bar's tooltip names the step, its time and, in a
 * distributed run, the worker that ran it. Steps without a record (not run yet, skipped) have no bar.
 */
export function renderGanttSvg(view: RunView): string {
  const rows = view.steps.filter((step) => step.timing !== undefined);
  if (rows.length === 0) return '<p class="empty">No step has finished yet.</p>';
  rows.sort((a, b) => a.timing!.startMs - b.timing!.startMs || a.index - b.index);
  const totalMs = rows.reduce((latest, step) => Math.max(latest, step.timing!.endMs), 1);
  const scale = CHART_WIDTH / totalMs;
  const width = LABEL_WIDTH + CHART_WIDTH + 10;
  const height = AXIS_HEIGHT + rows.length * ROW_HEIGHT + 4;
  const parts: string[] = [
    svgHeader('gantt', width, height, 'Gantt chart of the run'),
    '<g class="axis">',
  ];
  for (let tick = 0; tick <= TICKS; tick++) {
    const tickX = LABEL_WIDTH + (CHART_WIDTH * tick) / TICKS;
    parts.push(`<line x1="${tickX}" y1="${AXIS_HEIGHT - 4}" x2="${tickX}" y2="${height}"/>`);
    const anchor = tick === 0 ? 'start' : tick === TICKS ? 'end' : 'middle';
    parts.push(`<text x="${tickX}" y="12" text-anchor="${anchor}">${formatTick((totalMs * tick) / TICKS, totalMs)}</text>`);
  }
  parts.push('</g>');
  rows.forEach((step, position) => {
    const timing = step.timing!;
    const rowY = AXIS_HEIGHT + position * ROW_HEIGHT;
    const barX = LABEL_WIDTH + timing.startMs * scale;
    // A bar needs a width to be seen: a step shorter than a pixel is drawn a pixel wide.
    const barWidth = Math.max(1, (timing.endMs - timing.startMs) * scale);
    const label = step.id.length > LABEL_CHARACTERS ? `${step.id.slice(0, LABEL_CHARACTERS - 1)}…` : step.id;
    const attempts = timing.attempts > 1 ? `, ${timing.attempts} attempts` : '';
    const critical = step.critical ? ' critical' : '';
    const workerId = step.record?.workerId;
    const worker = workerId === undefined || workerId === null ? '' : ` · worker ${escapeHtml(String(workerId))}`;
    parts.push(
      `<g class="bar state-${step.state}${critical}" data-step="${step.index}">` +
        `<title>${escapeHtml(step.id)}: ${formatDuration(timing.endMs - timing.startMs)}${attempts}${step.critical ? ' (critical path)' : ''}${worker}</title>` +
        `<text x="${LABEL_WIDTH - 6}" y="${rowY + BAR_HEIGHT}" text-anchor="end">${escapeHtml(label)}</text>` +
        `<rect x="${barX.toFixed(1)}" y="${rowY + 2}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" rx="2"/>` +
        '</g>',
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A tick label: tenths of a ms when the whole run took under 10 ms. */
function formatTick(ms: number, totalMs: number): string {
  return totalMs < 10 ? `${ms.toFixed(1)} ms` : formatDuration(ms);
}
