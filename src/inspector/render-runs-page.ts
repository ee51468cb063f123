import { RUN_STATUSES, type RunListPage, type RunRecord, type RunStatus } from '../store/run-store';
import { escapeHtml } from './escape-html';
import { formatDollars, formatDuration, formatTime } from './format-values';
import { renderPage } from './render-page';
import { isRunId } from './run-id';

/** What the runs list shows. */
export interface RunsPageInput {
  page: RunListPage;
  pipeline: string | undefined;
  status: RunStatus | undefined;
  /** Whether this is a later page (a cursor was given). */
  paged: boolean;
  /** Pipeline names offered by the filter (the inspector's `pipelines`). */
  pipelineNames: readonly string[];
  /** The time now, epoch ms (running runs' durations). */
  nowMs: number;
}

/** The runs list: pipeline, status, start, duration and cost, filters, and a link to the next page. */
export function renderRunsPage(input: RunsPageInput): string {
  const { page, pipeline, status } = input;
  const options = RUN_STATUSES.map((value) => `<option value="${value}"${value === status ? ' selected' : ''}>${value}</option>`).join('');
  const names = input.pipelineNames.map((name) => `<option value="${escapeHtml(name)}"></option>`).join('');
  const filters =
    '<form class="filters" method="get" action="/">' +
    `<label>pipeline <input name="pipeline" list="pipeline-names" value="${escapeHtml(pipeline ?? '')}" placeholder="any"></label>` +
    `<datalist id="pipeline-names">${names}</datalist>` +
    `<label>status <select name="status"><option value="">any</option>${options}</select></label>` +
    '<button type="submit">Filter</button></form>';
  const rows = page.runs.map((run) => renderRunRow(run, input.nowMs)).join('');
  const query = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    if (pipeline !== undefined) params.set('pipeline', pipeline);
    if (status !== undefined) params.set('status', status);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    const text = params.toString();
    return text === '' ? '/' : `/?${text}`;
  };
  const links: string[] = [];
  if (input.paged) links.push(`<a href="${escapeHtml(query({}))}" class="first-page">first page</a>`);
  if (page.cursor !== undefined) links.push(`<a href="${escapeHtml(query({ cursor: page.cursor }))}" class="next-page" rel="next">next page</a>`);
  const table =
    page.runs.length === 0
      ? '<p class="empty">No runs match.</p>'
      : '<table class="runs"><thead><tr><th>run</th><th>pipeline</th><th>status</th><th>start (UTC)</th><th class="num">duration</th><th class="num">cost</th></tr></thead>' +
        `<tbody>${rows}</tbody></table>`;
  return renderPage({
    title: 'Runs',
    body: `<h1>Runs</h1>${filters}${table}<nav class="pages">${links.join(' ')}</nav>`,
  });
}

function renderRunRow(run: RunRecord, nowMs: number): string {
  const id = escapeHtml(run.runId);
  const link = isRunId(run.runId) ? `<a href="/runs/${encodeURIComponent(run.runId)}">${id}</a>` : `<span title="not an id the inspector serves">${id}</span>`;
  const end = run.status === 'running' ? nowMs : run.updatedAt;
  return (
    `<tr class="run status-${escapeHtml(run.status)}">` +
    `<td class="run-id">${link}</td>` +
    `<td class="pipeline">${escapeHtml(run.pipeline)}</td>` +
    `<td class="status"><span class="badge status-${escapeHtml(run.status)}">${escapeHtml(run.status)}</span></td>` +
    `<td>${formatTime(run.createdAt)}</td>` +
    `<td class="num">${formatDuration(end - run.createdAt)}</td>` +
    `<td class="num">${formatDollars(run.costMicrocents)}</td>` +
    '</tr>'
  );
}
