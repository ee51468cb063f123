import { escapeHtml } from './escape-html';

/**
 * The opening tag of an inline chart SVG of the inspector (the DAG, the Gantt chart): its CSS
 * class, its size in px (the viewBox too, so one unit is one pixel), and an image role with
 * an accessible name. Class and name are escaped.
 *
 * @example svgHeader('gantt', 900, 120, 'Gantt chart of the run') // '<svg class="gantt" …>'
 */
export function svgHeader(className: string, width: number, height: number, ariaLabel: string): string {
  return (
    `<svg class="${escapeHtml(className)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(ariaLabel)}">`
  );
}
