import { decodeValue } from '../store/decode-value';
import type { EncodedValue, StoredError } from '../store/run-store';
import { escapeHtml } from './escape-html';
import { formatDollars, formatDuration, formatTime } from './format-values';
import { renderDagSvg } from './render-dag-svg';
import { renderGanttSvg } from './render-gantt-svg';
import { renderPage } from './render-page';
import { renderUsageTable } from './render-usage-table';
import { renderValue } from './render-value';
import type { RunView, StepView } from './run-view';

/** What a run page needs besides the run. */
export interface RunPageContext {
  /** The CSRF token the action forms carry; undefined when actions are off (no pipeline for this run). */
  csrfToken: string | undefined;
  /** Whether this inspector started (or resumed) the run and can abort it. */
  ownsRun: boolean;
  /** A message about the last action on this run (e.g. why a resume failed). */
  notice: string | undefined;
  /** The time now, epoch ms (a running run's duration). */
  nowMs: number;
  /** What the page shows, as the live updates compare it (see `runSignatureOf`). */
  signature: string;
}

/** The page of one run (see {@link renderRunBody} for what it shows). */
export function renderRunPage(view: RunView, context: RunPageContext): string {
  const { run } = view;
  return renderPage({
    title: `${run.pipeline} ${run.runId}`,
    body:
      `<h1><span class="pipeline">${escapeHtml(run.pipeline)}</span> <span class="run-id">${escapeHtml(run.runId)}</span></h1>` +
      `<div id="run-live">${renderRunBody(view, context)}</div>`,
    data: { 'run-id': run.runId, 'run-status': run.status, events: `/runs/${encodeURIComponent(run.runId)}/events?since=${encodeURIComponent(context.signature)}` },
  });
}

/**
 * Everything of a run page below its title; the live updates replace it as the run changes:
 * a summary, the actions, the DAG, the Gantt chart, the usage table, the conversation state of
 * a stopped run, and each step's output and error.
 */
export function renderRunBody(view: RunView, context: RunPageContext): string {
  const { run } = view;
  const end = run.status === 'running' ? context.nowMs : run.updatedAt;
  const summary =
    `<dl class="summary" data-status="${escapeHtml(run.status)}">` +
    `<dt>status</dt><dd><span class="badge status-${escapeHtml(run.status)}" id="run-status">${escapeHtml(run.status)}</span></dd>` +
    `<dt>started</dt><dd>${formatTime(run.createdAt)} UTC</dd>` +
    `<dt>duration</dt><dd>${formatDuration(end - run.createdAt)}</dd>` +
    `<dt>cost</dt><dd>${formatDollars(run.costMicrocents)}</dd>` +
    `<dt>steps</dt><dd>${countStates(view.steps)}</dd>` +
    renderWorkers(view) +
    `<dt>owner</dt><dd>${escapeHtml(run.owner)} (epoch ${escapeHtml(String(run.epoch))}${run.status === 'running' ? `, lease ${run.leaseUntil > context.nowMs ? 'live' : 'expired'}` : ''})${context.ownsRun ? ' — run by this inspector' : ''}</dd>` +
    (run.error === undefined ? '' : `<dt>error</dt><dd class="error">${renderError(run.error)}</dd>`) +
    '</dl>';
  const notice = context.notice === undefined ? '' : `<p class="notice" role="status">${escapeHtml(context.notice)}</p>`;
  const conversation =
    run.conversationState === undefined
      ? ''
      : `<section class="conversation"><h2>Conversation state</h2>${renderEncoded(run.conversationState)}</section>`;
  const base = `/runs/${encodeURIComponent(run.runId)}`;
  const big = isBigRun(view);
  const usage = big
    ? `<div class="scroll">${renderUsageTable(view, { rows: false })}</div>${renderLazy(`${base}/usage`, `Usage of each of the ${view.steps.length} steps`)}`
    : `<div class="scroll">${renderUsageTable(view)}</div>`;
  const steps =
    big || hasBigOutputs(view) ? renderLazy(`${base}/steps`, `Outputs and errors of the ${view.steps.length} steps`) : renderStepDetails(view);
  return (
    summary +
    notice +
    renderActions(view, context) +
    `<section class="dag-section"><h2>DAG</h2><div class="scroll">${renderDagSvg(view)}</div>${view.hasEdges ? '' : '<p class="note">The run\'s fingerprint holds no graph: steps are shown without edges.</p>'}</section>` +
    `<section class="gantt-section"><h2>Timeline</h2><p class="legend"><span class="swatch critical"></span> critical path</p><div class="scroll">${renderGanttSvg(view)}</div></section>` +
    `<section class="usage-section"><h2>Usage and cost</h2>${usage}</section>` +
    conversation +
    `<section class="steps-section"><h2>Steps</h2>${steps}</section>`
  );
}

/** The run-level workers line of a distributed run: each worker and how many steps it ran (nothing for an in-process run). */
function renderWorkers(view: RunView): string {
  if (view.workers.length === 0) return '';
  const shares = view.workers.map(
    (share) => `<span class="worker">${escapeHtml(share.workerId)}</span> (${share.steps} step${share.steps === 1 ? '' : 's'})`,
  );
  return `<dt>workers</dt><dd class="workers">${shares.join(', ')}</dd>`;
}

function countStates(steps: readonly StepView[]): string {
  const counts = new Map<string, number>();
  for (const step of steps) counts.set(step.state, (counts.get(step.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${count} ${escapeHtml(state)}`).join(', ') || 'none';
}

function renderActions(view: RunView, context: RunPageContext): string {
  if (context.csrfToken === undefined) return '';
  const { run } = view;
  const base = `/runs/${encodeURIComponent(run.runId)}`;
  const csrf = `<input type="hidden" name="csrf" value="${escapeHtml(context.csrfToken)}">`;
  const forms: string[] = [];
  // A `running` run whose lease expired is a crashed one (API.md §12): it can be resumed, and cancelled.
  const crashed = run.status === 'running' && run.leaseUntil <= context.nowMs && !context.ownsRun;
  if (run.status !== 'running' || crashed) {
    forms.push(`<form method="post" action="${base}/resume">${csrf}<button type="submit" class="resume">Resume</button></form>`);
    const options = view.steps
      .filter((step) => step.record !== undefined)
      .map((step) => `<option value="${escapeHtml(step.id)}">${escapeHtml(step.id)}</option>`)
      .join('');
    if (options !== '') {
      forms.push(
        `<form method="post" action="${base}/rerun">${csrf}<label>rerun <select name="step">${options}</select></label> <button type="submit" class="rerun">Rerun with dependents</button></form>`,
      );
    }
  }
  if (run.status === 'running') {
    forms.push(`<form method="post" action="${base}/cancel">${csrf}<button type="submit" class="cancel">Cancel</button></form>`);
  }
  return `<div class="actions">${forms.join('')}</div>`;
}

/**
 * Runs with more steps than this show the per-step usage rows and the outputs when they are
 * opened (fetched then), so a 1,000-step run's page renders in well under a second
 * (bench/measure-inspector.ts); the DAG, the Gantt chart and the totals are always in the page.
 */
export const INLINE_STEPS = 200;

/** Whether a run is big enough for its per-step sections to load when opened. */
export function isBigRun(view: RunView): boolean {
  return view.steps.length > INLINE_STEPS;
}

/**
 * Stored outputs (encoded text, all steps) over this many characters are shown when opened, like a
 * big run's: each value is cut at `MAX_VALUE_CHARACTERS` when rendered, but a page of 200 such
 * outputs would still be megabytes, sent again on every live update.
 */
export const INLINE_OUTPUT_CHARACTERS = 1_000_000;

/** Whether the run's stored outputs are too big to put in the page (see {@link INLINE_OUTPUT_CHARACTERS}). */
export function hasBigOutputs(view: RunView): boolean {
  let characters = 0;
  for (const step of view.steps) {
    const output = step.record?.output;
    if (typeof output === 'string') characters += output.length;
    if (characters > INLINE_OUTPUT_CHARACTERS) return true;
  }
  return false;
}

/** A `<details>` whose body the page script fetches from `url` when it is first opened. */
function renderLazy(url: string, summary: string): string {
  return `<details class="lazy" data-detail="${escapeHtml(url)}"><summary>${summary}</summary><div class="lazy-body"><p class="note">Loading…</p></div></details>`;
}

/** Every step's details: its output and error as collapsible JSON (steps without a record left out). */
export function renderStepDetails(view: RunView): string {
  return view.steps.map(renderStepDetail).join('') || '<p class="empty">No step has a record yet.</p>';
}

function renderStepDetail(step: StepView): string {
  const record = step.record;
  if (record === undefined) return '';
  const generation = step.generations > 1 ? ` · generation ${escapeHtml(String(record.generation))} of ${step.generations}` : '';
  const worker = record.workerId === undefined || record.workerId === null ? '' : ` · worker <span class="worker">${escapeHtml(String(record.workerId))}</span>`;
  const output = record.output === undefined ? '' : `<h3>output</h3>${renderEncoded(record.output)}`;
  const error = record.error === undefined ? '' : `<h3>error</h3><p class="error">${renderError(record.error)}</p>`;
  return (
    `<details class="step-detail state-${step.state}" id="step-${step.index}" data-step="${step.index}">` +
    `<summary><span class="step-id">${escapeHtml(step.id)}</span> · <span class="step-state">${step.state}</span>` +
    ` · ${escapeHtml(String(record.attempts))} attempt${record.attempts === 1 ? '' : 's'}${generation}${worker}</summary>` +
    output +
    error +
    '</details>'
  );
}

function renderError(error: StoredError): string {
  const code = error.code === undefined ? '' : ` [${escapeHtml(String(error.code))}]`;
  return `<strong>${escapeHtml(String(error.name))}</strong>${code}: ${escapeHtml(String(error.message))}`;
}

/** A stored value decoded and shown as collapsible JSON; the raw text when it does not decode. */
function renderEncoded(encoded: EncodedValue): string {
  try {
    return renderValue(decodeValue(encoded));
  } catch (error) {
    return `<p class="error">Cannot decode this value (${escapeHtml((error as Error).message)}); stored text:</p><pre>${escapeHtml(String(encoded))}</pre>`;
  }
}
