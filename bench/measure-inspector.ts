/**
 * The inspector's two performance claims (issue 11), measured, not asserted in a test:
 * - the runs list with 10,000 runs in the store is served in ≤ 200 ms (HTTP round trip, first
 *   page, a filtered page and a page deep in the list; MemoryRunStore and a SQLite file);
 * - a 1,000-step run's page renders in ≤ 1 s in the browser (Chromium via playwright-core: from
 *   navigation start to the first frame after the load event, and the main thread's CPU time,
 *   which a loaded machine does not inflate as much). The page holds the DAG (1,000 boxes), the
 *   Gantt chart (1,000 bars) and the totals; a run over 200 steps loads its per-step usage rows
 *   and outputs when they are opened.
 * And what watching costs the server: a 1,000-step run open in 5 tabs (5 event streams polling
 * the store every 300 ms), the inspector's CPU time per second, against what rendering the run's
 * body on every poll (what the streams did before they rendered only on a change) would cost.
 *
 * Run: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/measure-inspector.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRunStore, Pipeline, step, type RunStore } from 'fastroai';
import { serveInspector } from 'fastroai/inspector';
import { SqliteRunStore } from 'fastroai/sqlite';
import { renderRunBody } from '../src/inspector/render-run-page';
import { buildRunView } from '../src/inspector/run-view';
import { POLL_INTERVAL_MS } from '../src/inspector/stream-run-events';
import { launchChromium } from '../tests/inspector/support/launch-chromium';
import { writeRuns } from '../tests/inspector/support/fake-runs';
import { describeLoad, describeMachine } from './describe-machine';
import { randomDag } from './random-dag';

const LIST_RUNS = 10_000;
const LIST_REQUESTS = 30;
const RUN_STEPS = 1_000;
const PAGE_LOADS = 7;

function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

async function timeRequests(url: string, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    const response = await fetch(url);
    await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    samples.push(performance.now() - start);
  }
  return samples;
}

async function measureList(label: string, store: RunStore): Promise<string[]> {
  await writeRuns(store, LIST_RUNS - 100, 'bulk');
  await writeRuns(store, 100, 'other', Date.UTC(2025, 0, 1));
  const inspector = await serveInspector({ store, port: 0 });
  try {
    // The cursor of page 100 (the 4,951st run on).
    let cursor: string | undefined;
    for (let page = 1; page < 100; page++) cursor = (await store.listRuns({ limit: 50, cursor })).cursor;
    const rows: string[] = [];
    for (const [what, path] of [
      ['first page', ''],
      ['filtered (pipeline + status)', '?pipeline=other&status=completed'],
      ['page 100', `?cursor=${cursor}`],
    ] as const) {
      const samples = await timeRequests(`${inspector.url}${path}`, LIST_REQUESTS);
      rows.push(`| ${label} | ${what} | ${percentile(samples, 0.5).toFixed(1)} | ${percentile(samples, 0.95).toFixed(1)} | ${Math.max(...samples).toFixed(1)} |`);
    }
    return rows;
  } finally {
    await inspector.close();
  }
}

/** A pipeline of `size` steps on a random DAG, each returning a small JSON object. */
function bigPipeline(size: number, store: RunStore): Pipeline {
  const dependencies = randomDag(size, 11, 3, 40);
  const ids = dependencies.map((_, index) => `step_${String(index).padStart(4, '0')}`);
  const steps = Object.fromEntries(ids.map((id, index) => [id, step(() => ({ index, text: `output of ${id}`, items: [index, index * 2, index * 3] }))]));
  const edges = Object.fromEntries(ids.map((id, index) => [id, dependencies[index].map((dependency) => ids[dependency])]));
  const last = ids[ids.length - 1];
  // Every step without dependents feeds the output step, so the DAG has one terminal.
  const hasDependents = new Set(dependencies.flat());
  edges[last] = [...new Set([...edges[last], ...ids.slice(0, -1).filter((_, index) => !hasDependents.has(index))])];
  return new Pipeline({ name: 'big', store, steps, dependencies: edges, outputStep: last });
}

async function measureRunPage(): Promise<string[]> {
  const store = new MemoryRunStore();
  await bigPipeline(RUN_STEPS, store).execute({}, undefined, { runId: 'big-1' });
  const inspector = await serveInspector({ store, port: 0 });
  const browser = await launchChromium();
  try {
    const url = `${inspector.url}runs/big-1`;
    const htmlBytes = (await (await fetch(url)).text()).length;
    const server = await timeRequests(url, 10);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Main-thread CPU time too (thread ticks): on a loaded machine, wall time counts the waits for a core.
    const devtools = await page.context().newCDPSession(page);
    await devtools.send('Performance.enable', { timeDomain: 'threadTicks' } as never);
    const taskSeconds = async () =>
      ((await devtools.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }).metrics.find((metric) => metric.name === 'TaskDuration')!.value;
    const rendered: number[] = [];
    const cpu: number[] = [];
    for (let load = 0; load < PAGE_LOADS; load++) {
      await page.goto('about:blank');
      const before = await taskSeconds();
      await page.goto(url, { waitUntil: 'load' });
      // Navigation start to the first frame painted after the load event.
      rendered.push(
        await page.evaluate(
          () =>
            new Promise<number>((resolve) =>
              (globalThis as unknown as { requestAnimationFrame(callback: () => void): void }).requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)),
            ),
        ),
      );
      cpu.push(((await taskSeconds()) - before) * 1000);
      const nodes = await page.locator('svg.dag g.node').count();
      const bars = await page.locator('svg.gantt g.bar').count();
      if (nodes !== RUN_STEPS || bars !== RUN_STEPS) throw new Error(`the page shows ${nodes} DAG nodes and ${bars} bars, not ${RUN_STEPS}`);
    }
    return [
      `| server: HTML of the page (${(htmlBytes / 1024).toFixed(0)} KiB), HTTP round trip | ${percentile(server, 0.5).toFixed(1)} | ${Math.max(...server).toFixed(1)} |`,
      `| browser: navigation start → first frame after load, wall (${PAGE_LOADS} loads) | ${percentile(rendered, 0.5).toFixed(1)} | ${Math.max(...rendered).toFixed(1)} |`,
      `| browser: main-thread CPU time of the same loads | ${percentile(cpu, 0.5).toFixed(1)} | ${Math.max(...cpu).toFixed(1)} |`,
    ];
  } finally {
    await browser.close();
    await inspector.close();
  }
}

const WATCHING_TABS = 5;
const WATCH_SECONDS = 5;

async function measureWatchedRun(): Promise<string[]> {
  const store = new MemoryRunStore();
  await bigPipeline(RUN_STEPS, store).execute({}, undefined, { runId: 'big-1' });
  const inspector = await serveInspector({ store, port: 0 });
  const streams = Array.from({ length: WATCHING_TABS }, () => new AbortController());
  try {
    for (const stream of streams) {
      const response = await fetch(`${inspector.url}runs/big-1/events?since=none`, { signal: stream.signal });
      void response.body!.pipeTo(new WritableStream()).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the first (full) update of each stream is sent
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, WATCH_SECONDS * 1_000));
    const used = process.cpuUsage(before);
    const cpuMsPerSecond = (used.user + used.system) / 1_000 / WATCH_SECONDS;
    const stored = (await store.getRun('big-1'))!;
    const renders: number[] = [];
    for (let index = 0; index < 20; index++) {
      const start = performance.now();
      renderRunBody(buildRunView(stored.run, stored.steps), { csrfToken: undefined, ownsRun: false, notice: undefined, nowMs: Date.now(), signature: 'x' });
      renders.push(performance.now() - start);
    }
    const renderMs = percentile(renders, 0.5);
    const pollsPerSecond = (WATCHING_TABS * 1_000) / POLL_INTERVAL_MS;
    return [
      `| inspector CPU time while ${WATCHING_TABS} tabs watch the unchanged run (${WATCH_SECONDS} s) | ${cpuMsPerSecond.toFixed(1)} ms per s |`,
      `| one view + body render of the run (median of 20) | ${renderMs.toFixed(1)} ms |`,
      `| the same ${pollsPerSecond.toFixed(1)} polls/s rendering each time (estimate: renders × polls) | +${(renderMs * pollsPerSecond).toFixed(0)} ms per s |`,
    ];
  } finally {
    for (const stream of streams) stream.abort();
    await inspector.close();
  }
}

async function main(): Promise<void> {
  console.log(`Machine: ${describeMachine()}; load ${describeLoad()}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-inspector-bench-'));
  const sqlite = new SqliteRunStore({ path: join(dir, 'runs.db') });
  try {
    console.log(`Runs list, ${LIST_RUNS.toLocaleString('en-US')} runs in the store, 50 a page, ${LIST_REQUESTS} requests each (ms; target ≤ 200):\n`);
    console.log('| store | page | median | p95 | max |\n|---|---|---:|---:|---:|');
    for (const row of await measureList('MemoryRunStore', new MemoryRunStore())) console.log(row);
    for (const row of await measureList('SqliteRunStore (file)', sqlite)) console.log(row);
    console.log(`\nA ${RUN_STEPS.toLocaleString('en-US')}-step run's page (ms; target ≤ 1000 in the browser):\n`);
    console.log('| what | median | max |\n|---|---:|---:|');
    for (const row of await measureRunPage()) console.log(row);
    console.log(`\nWatching a ${RUN_STEPS.toLocaleString('en-US')}-step completed run (server side):\n`);
    console.log('| what | value |\n|---|---:|');
    for (const row of await measureWatchedRun()) console.log(row);
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
