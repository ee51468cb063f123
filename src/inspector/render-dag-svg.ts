import { escapeHtml } from './escape-html';
import { layoutDag } from './layout-dag';
import { svgHeader } from './svg-header';
import type { RunView } from './run-view';

const NODE_WIDTH = 150;
const NODE_HEIGHT = 34;
const COLUMN_GAP = 56;
const ROW_GAP = 14;
const MARGIN = 8;
/** Characters of a step id shown in its box (the full id is in the box's tooltip). */
const LABEL_CHARACTERS = 18;

/**
 * The run's DAG as an SVG (laid out by {@link layoutDag}): a box per step, classed by its state
 * (`state-completed`, `state-running`, …) and `critical` when on the critical path, with an
 * edge from each dependency (left to right). Every id is escaped; the text of a box is the id, shortened.
 */
export function renderDagSvg(view: RunView): string {
  const { steps } = view;
  if (steps.length === 0) return '<p class="empty">No steps recorded.</p>';
  const layout = layoutDag(steps);
  const width = MARGIN * 2 + layout.columns * NODE_WIDTH + (layout.columns - 1) * COLUMN_GAP;
  const height = MARGIN * 2 + layout.rows * NODE_HEIGHT + (layout.rows - 1) * ROW_GAP;
  const x = (index: number) => MARGIN + layout.column[index] * (NODE_WIDTH + COLUMN_GAP);
  const y = (index: number) => MARGIN + layout.row[index] * (NODE_HEIGHT + ROW_GAP);
  // All edges in two path elements (plain and critical) rather than one element per edge, and
  // no arrowheads (every edge points right): a 1,000-step DAG has thousands of edges, and one
  // element each was a third of the page's render time (bench/measure-inspector.ts).
  const plain: string[] = [];
  const critical: string[] = [];
  for (const step of steps) {
    const toX = x(step.index);
    const toY = y(step.index) + NODE_HEIGHT / 2;
    for (const dependency of step.dependencies) {
      const fromX = x(dependency) + NODE_WIDTH;
      const fromY = y(dependency) + NODE_HEIGHT / 2;
      const bend = (toX - fromX) / 2;
      (step.critical && steps[dependency].critical ? critical : plain).push(`M${fromX},${fromY}C${fromX + bend},${fromY} ${toX - bend},${toY} ${toX},${toY}`);
    }
  }
  const parts: string[] = [
    svgHeader('dag', width, height, 'DAG of the run'),
    `<g class="edges" data-edges="${plain.length + critical.length}">`,
  ];
  if (plain.length > 0) parts.push(`<path class="edge" d="${plain.join('')}"/>`);
  if (critical.length > 0) parts.push(`<path class="edge critical" d="${critical.join('')}"/>`);
  parts.push('</g><g class="nodes">');
  for (const step of steps) {
    const shortened = step.id.length > LABEL_CHARACTERS;
    const label = escapeHtml(shortened ? `${step.id.slice(0, LABEL_CHARACTERS - 1)}…` : step.id);
    // The full id as a tooltip only where the box shows it shortened (an element less per step).
    const title = shortened ? `<title>${escapeHtml(step.id)}</title>` : '';
    const critical = step.critical ? ' critical' : '';
    parts.push(
      `<g class="node state-${step.state}${critical}" data-step="${step.index}" transform="translate(${x(step.index)},${y(step.index)})">` +
        title +
        `<rect width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6"/>` +
        `<text x="10" y="15" class="node-id">${label}</text>` +
        `<text x="10" y="28" class="node-state">${step.state}</text>` +
        '</g>',
    );
  }
  parts.push('</g></svg>');
  return parts.join('');
}
