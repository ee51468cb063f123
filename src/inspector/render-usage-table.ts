import { escapeHtml } from './escape-html';
import { formatCount, formatDollars, formatDuration } from './format-values';
import type { RunView } from './run-view';

/**
 * Usage and cost per step (its latest record: what its attempts were billed, failed ones
 * included; in a distributed run, the worker that ran it) with the total, and what the store counted against the run's budget. With
 * `rows: false`, the totals only (a big run's page; its rows load when opened).
 */
export function renderUsageTable(view: RunView, options: { rows?: boolean } = {}): string {
  const rows: string[] = [];
  const withRows = options.rows ?? true;
  // A distributed run's table says which worker ran each step; an in-process run's has no such column.
  const withWorkers = view.workers.length > 0;
  const total = { inputTokens: 0, outputTokens: 0, requestCount: 0, toolCallCount: 0 };
  for (const step of view.steps) {
    const record = step.record;
    const usage = record?.usage;
    if (usage !== undefined) {
      total.inputTokens += usage.inputTokens ?? 0;
      total.outputTokens += usage.outputTokens ?? 0;
      total.requestCount += usage.requestCount ?? 0;
      total.toolCallCount += usage.toolCallCount ?? 0;
    }
    if (!withRows) continue;
    const duration = step.timing === undefined ? '–' : formatDuration(step.timing.endMs - step.timing.startMs);
    rows.push(
      `<tr data-step="${step.index}" class="state-${step.state}">` +
        `<td class="step-id">${escapeHtml(step.id)}</td>` +
        `<td class="step-state">${step.state}</td>` +
        (withWorkers ? `<td class="worker">${record?.workerId === undefined || record.workerId === null ? '' : escapeHtml(String(record.workerId))}</td>` : '') +
        `<td>${usage?.model === undefined || usage.model === null ? '' : escapeHtml(String(usage.model))}</td>` +
        `<td class="num">${record === undefined ? '–' : formatCount(record.attempts)}</td>` +
        `<td class="num">${usage === undefined ? '–' : formatCount(usage.inputTokens ?? 0)}</td>` +
        `<td class="num">${usage === undefined ? '–' : formatCount(usage.outputTokens ?? 0)}</td>` +
        `<td class="num">${usage === undefined ? '–' : formatCount(usage.requestCount ?? 0)}</td>` +
        `<td class="num">${duration}</td>` +
        `<td class="num">${usage === undefined ? '–' : formatDollars(usage.costMicrocents ?? 0)}</td>` +
        '</tr>',
    );
  }
  return (
    `<table class="usage"><thead><tr><th>step</th><th>state</th>${withWorkers ? '<th>worker</th>' : ''}<th>model</th><th class="num">attempts</th>` +
    '<th class="num">input tokens</th><th class="num">output tokens</th><th class="num">requests</th>' +
    '<th class="num">time</th><th class="num">cost</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody>` +
    `<tfoot><tr class="total"><td>total</td><td></td>${withWorkers ? '<td></td>' : ''}<td></td><td></td>` +
    `<td class="num">${formatCount(total.inputTokens)}</td><td class="num">${formatCount(total.outputTokens)}</td>` +
    `<td class="num">${formatCount(total.requestCount)}</td><td></td>` +
    `<td class="num" data-total-cost>${formatDollars(view.stepsCostMicrocents)}</td></tr>` +
    `<tr class="billed"><td colspan="${withWorkers ? 9 : 8}">billed to the run (store, every generation and attempt)</td><td class="num">${formatDollars(view.run.costMicrocents)}</td></tr>` +
    '</tfoot></table>'
  );
}
