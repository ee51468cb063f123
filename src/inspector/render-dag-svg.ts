import { escapeHtml } from './escape-html';
import { layoutDag } from './layout-dag';
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
 * arrow from each dependency. Every id is escaped; the text of a box is the id, shortened.
 */
export function renderDagSvg(view: RunView): string {
  const { steps } = view;
  if (steps.length === 0) return '<p class="empty">No steps recorded.</p>';
  const layout = layoutDag(steps);
  const width = MARGIN * 2 + layout.columns * NODE_WIDTH + (layout.columns - 1) * COLUMN_GAP;
  const height = MARGIN * 2 + layout.rows * NODE_HEIGHT + (layout.rows - 1) * ROW_GAP;
  const x = (index: number) => MARGIN + layout.column[index] * (NODE_WIDTH + COLUMN_GAP);
  const y = (index: number) => MARGIN + layout.row[index] * (NODE_HEIGHT + ROW_GAP);
  const parts: string[] = [
    `<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="DAG of the run">`,
    '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="arrow-head"/></marker></defs>',
    '<g class="edges">',
  ];
  for (const step of steps) {
    const toX = x(step.index);
    const toY = y(step.index) + NODE_HEIGHT / 2;
    for (const dependency of step.dependencies) {
      const fromX = x(dependency) + NODE_WIDTH;
      const fromY = y(dependency) + NODE_HEIGHT / 2;
      const bend = (toX - fromX) / 2;
      const critical = step.critical && steps[dependency].critical ? ' critical' : '';
      parts.push(`<path class="edge${critical}" d="M${fromX},${fromY} C${fromX + bend},${fromY} ${toX - bend},${toY} ${toX},${toY}" marker-end="url(#arrow)"/>`);
    }
  }
  parts.push('</g><g class="nodes">');
  for (const step of steps) {
    const id = escapeHtml(step.id);
    const label = escapeHtml(step.id.length > LABEL_CHARACTERS ? `${step.id.slice(0, LABEL_CHARACTERS - 1)}…` : step.id);
    const critical = step.critical ? ' critical' : '';
    parts.push(
      `<g class="node state-${step.state}${critical}" data-step="${step.index}" transform="translate(${x(step.index)},${y(step.index)})">` +
        `<title>${id} (${step.state})</title>` +
        `<rect width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6"/>` +
        `<text x="10" y="15" class="node-id">${label}</text>` +
        `<text x="10" y="28" class="node-state">${step.state}</text>` +
        '</g>',
    );
  }
  parts.push('</g></svg>');
  return parts.join('');
}
