/**
 * The inspector shows a distributed run (issue 11: "show its runs too", API.md §13): which
 * worker ran each step, on the Gantt chart's tooltips, in the usage table and the step details,
 * and a run-level workers line, every worker id escaped like any value from a run.
 *
 * The run is real: a QueueRunner on the local Redis (a unique BullMQ prefix, its keys deleted
 * after) and two step workers in this process (createStepWorker, named with XSS payloads)
 * record it in a SQLite file; `b` and `c` are held 300 ms each, so with a concurrency of one
 * each worker runs one of them and the run has two workers.
 */
import type { Browser } from 'playwright-core';
import { serveInspector, type Inspector } from 'fastroai/inspector';
import { createStepWorker, type StepWorker } from 'fastroai/distributed';
import type { SqliteRunStore } from 'fastroai/sqlite';
import type { StepRecord } from 'fastroai';
import { DistributedFixture } from '../distributed/support/distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline } from '../distributed/support/distributed-pipeline';
import { httpRequestTo } from './support/http-request';
import { launchChromium } from './support/launch-chromium';

jest.setTimeout(90_000);

/** Worker names that would run script if a page put them in HTML (or an SVG title) unescaped; no spaces (BullMQ names its Redis client after the worker). */
const WORKER_NAMES = ['w1"><svg/onload=alert(1)>', 'w2</title><script>alert(2)</script>'];
const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

let fixture: DistributedFixture;
let store: SqliteRunStore;
let workers: StepWorker[] = [];
let inspector: Inspector;
let records: StepRecord[];

beforeAll(async () => {
  fixture = new DistributedFixture();
  store = fixture.store();
  const pipeline = distributedPipeline({ ledger: fixture.ledger, label: 'in-process', slow: { b: 1_000, c: 1_000 } });
  workers = WORKER_NAMES.map((name) => createStepWorker({ pipelines: [pipeline], store, connection: { host: '127.0.0.1', port: 6379 }, prefix: fixture.prefix, name }));
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  const result = await pipeline.execute(DISTRIBUTED_INPUT, undefined, { store, runner: fixture.runner(), runId: 'dist-1' });
  expect(Object.keys(result.stepOutputs).sort()).toEqual([...DISTRIBUTED_STEPS]);
  records = (await store.getRun('dist-1'))!.steps;
  inspector = await serveInspector({ store, port: 0 });
});

afterAll(async () => {
  await inspector?.close();
  await Promise.all(workers.map((worker) => worker.close()));
  await fixture?.dispose();
});

function workerOf(stepId: string): string {
  return records.find((record) => record.stepId === stepId)!.workerId!;
}

describe('a distributed run in the inspector', () => {
  it('was run by both workers, each step recorded with the worker that ran it', () => {
    expect(records).toHaveLength(DISTRIBUTED_STEPS.length);
    expect(records.every((record) => WORKER_NAMES.includes(record.workerId!))).toBe(true);
    expect(new Set(records.map((record) => record.workerId)).size).toBe(2);
  });

  it('shows a workers line with each worker and its count of steps, escaped', async () => {
    const { body } = await httpRequestTo(inspector.url, '/runs/dist-1');
    const line = /<dt>workers<\/dt><dd class="workers">(.*?)<\/dd>/.exec(body)?.[1];
    expect(line).toBeDefined();
    for (const name of WORKER_NAMES) {
      const count = records.filter((record) => record.workerId === name).length;
      expect(line).toContain(`<span class="worker">${escaped(name)}</span> (${count} step${count === 1 ? '' : 's'})`);
    }
    // `a` starts first: its worker is named first.
    expect(line!.indexOf(escaped(workerOf('a')))).toBe('<span class="worker">'.length);
  });

  it("names each step's worker in the Gantt chart's tooltips, the usage table and the step details", async () => {
    const { body } = await httpRequestTo(inspector.url, '/runs/dist-1');
    DISTRIBUTED_STEPS.forEach((stepId, index) => {
      const worker = escaped(workerOf(stepId));
      expect(body).toMatch(new RegExp(`<g class="bar [^"]*" data-step="${index}"><title>${stepId}: [^<]* · worker ${escapeRegExp(worker)}</title>`));
      expect(body).toMatch(new RegExp(`<tr data-step="${index}" class="[^"]*"><td class="step-id">${stepId}</td><td class="step-state">completed</td><td class="worker">${escapeRegExp(worker)}</td>`));
      expect(body).toMatch(new RegExp(`<details class="step-detail [^"]*" id="step-${index}"[^>]*><summary>.*? · worker <span class="worker">${escapeRegExp(worker)}</span></summary>`));
    });
    expect(body).toContain('<th>state</th><th>worker</th><th>model</th>');
    expect(body).toContain('<tr class="billed"><td colspan="9">');
  });

  it('escapes the worker ids everywhere: no tag of theirs reaches a page, the live update or a loaded part', async () => {
    const page = await httpRequestTo(inspector.url, '/runs/dist-1');
    const events = /data-events="([^"]+)"/.exec(page.body)![1].replace(/&amp;/g, '&');
    const live = await firstUpdateOf(new URL(events.replace(/since=[^&]*/, 'since=none'), inspector.url));
    const usage = await httpRequestTo(inspector.url, '/runs/dist-1/usage');
    const steps = await httpRequestTo(inspector.url, '/runs/dist-1/steps');
    for (const html of [page.body, live, usage.body, steps.body]) {
      expect(html).not.toContain('<svg/onload');
      expect(html).not.toContain('</title><script>');
      expect(html).not.toContain('<script>alert');
    }
    expect(live).toContain(`<span class="worker">${escaped(WORKER_NAMES[1])}</span>`);
    expect(usage.body).toContain(`<td class="worker">${escaped(workerOf('a'))}</td>`);
    expect(steps.body).toContain(` · worker <span class="worker">${escaped(workerOf('f'))}</span>`);
  });

  it('shows the workers in Chromium as text, and runs none of their payloads', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto(`${inspector.url}runs/dist-1`);
      expect((await page.locator('dd.workers span.worker').allTextContents()).sort()).toEqual([...WORKER_NAMES].sort());
      expect(await page.locator('table.usage tr[data-step="5"] td.worker').textContent()).toBe(workerOf('f'));
      expect(await page.locator('svg.gantt g.bar[data-step="0"] title').textContent()).toMatch(new RegExp(` · worker ${escapeRegExp(workerOf('a'))}$`));
      expect(await page.locator('svg').count()).toBe(2); // the DAG and the Gantt chart: no <svg/onload>
      expect(await page.locator('script').count()).toBe(1); // the inspector's own
      await page.waitForTimeout(300); // an onload handler would have fired by now
      expect(dialogs).toEqual([]);
    } finally {
      await browser?.close();
    }
  });
});

/** The data of the first `update` event of a run's event stream (the page body it sends). */
async function firstUpdateOf(url: URL): Promise<string> {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { signal: controller.signal });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: update\ndata: ') || !/event: update\ndata: .*\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    return (JSON.parse(/event: update\ndata: (.*)\n/.exec(text)![1]) as { html: string }).html;
  } finally {
    controller.abort();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
