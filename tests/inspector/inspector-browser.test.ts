/**
 * The inspector in a real browser: Debian's Chromium driven by playwright-core. The list, a
 * run's DAG, Gantt chart and cost table, a run in another process turning to completed live,
 * and cancelled by a click, resume by a click, XSS payloads shown as text, and the token off loopback.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { MemoryRunStore } from 'fastroai';
import { serveInspector, type Inspector } from 'fastroai/inspector';
import { SqliteRunStore } from 'fastroai/sqlite';
import { writeRuns } from './support/fake-runs';
import { waitFor } from './support/http-request';
import { launchChromium } from './support/launch-chromium';
import { relayPipeline } from './support/relay-pipeline';
import { XSS_IMG, XSS_SCRIPT, bookingPipeline, chainPipeline, documentPipeline, hostilePipeline, type Mailbox } from './support/sample-pipelines';

// Chromium's start and the child process's TypeScript compile take seconds on a loaded machine.
jest.setTimeout(90_000);

const REPO_ROOT = join(__dirname, '..', '..');
let browser: Browser;
const opened: Inspector[] = [];
const children: ChildProcess[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(opened.splice(0).map((inspector) => inspector.close()));
});

afterAll(async () => {
  await browser?.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function open(options: Parameters<typeof serveInspector>[0]): Promise<Inspector> {
  const inspector = await serveInspector({ port: 0, ...options });
  opened.push(inspector);
  return inspector;
}

/** A page that records every dialog (alert, confirm, prompt) it was asked to show. */
async function newPage(): Promise<{ page: Page; dialogs: string[] }> {
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { page, dialogs };
}

describe('the inspector in Chromium', () => {
  it('opens the runs list and follows a run link to its page', async () => {
    const store = new MemoryRunStore();
    await writeRuns(store, 3, 'bulk');
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const inspector = await open({ store });
    const { page } = await newPage();
    await page.goto(inspector.url);
    expect(await page.title()).toBe('Runs · fastroai inspector');
    expect(await page.locator('table.runs tbody tr').count()).toBe(4);
    expect(await page.locator('table.runs tbody tr').first().locator('td.pipeline').textContent()).toBe('document');
    await page.selectOption('select[name=status]', 'completed');
    await page.fill('input[name=pipeline]', 'bulk');
    await Promise.all([page.waitForURL(/status=completed/), page.click('form.filters button')]);
    expect(await page.locator('table.runs tbody tr').count()).toBe(3);
    await page.goto(inspector.url);
    await Promise.all([page.waitForURL(/\/runs\/doc-1$/), page.click('a[href="/runs/doc-1"]')]);
    expect(await page.locator('h1 .pipeline').textContent()).toBe('document');
    await page.close();
  });

  it("shows a run's DAG, Gantt chart with the critical path, and cost table", async () => {
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const inspector = await open({ store });
    const { page } = await newPage();
    await page.goto(`${inspector.url}runs/doc-1`);
    const nodes = page.locator('svg.dag g.node');
    expect(await nodes.count()).toBe(5);
    expect(await nodes.locator('text.node-id').allTextContents()).toEqual(['extract', 'classify', 'fetchMarket', 'fetchUser', 'calculate']);
    expect(await page.locator('svg.dag g.node.state-completed').count()).toBe(5);
    // Laid out in layers: extract left of classify, left of both fetches, left of calculate.
    const xOf = async (index: number) => (await nodes.nth(index).locator('rect').boundingBox())!.x;
    expect(await xOf(0)).toBeLessThan(await xOf(1));
    expect(await xOf(1)).toBeLessThan(await xOf(2));
    expect(Math.abs((await xOf(2)) - (await xOf(3)))).toBeLessThan(2); // one column (a critical box has a thicker border)
    expect(await xOf(3)).toBeLessThan(await xOf(4));
    expect(await page.locator('svg.gantt g.bar').count()).toBe(5);
    expect(await page.locator('svg.gantt g.bar.critical').count()).toBe(4);
    expect(await page.locator('svg.gantt g.bar.critical[data-step="3"]').count()).toBe(0);
    expect(await page.locator('table.usage tbody tr').count()).toBe(5);
    expect(await page.locator('table.usage [data-total-cost]').textContent()).toBe('$0.000250');
    expect(await page.locator('table.usage tr[data-step="1"] td').nth(4).textContent()).toBe('120');
    // Outputs are collapsible JSON.
    const extract = page.locator('details#step-0');
    expect(await extract.locator('.json').isVisible()).toBe(false);
    await extract.locator('summary').first().click();
    expect(await extract.locator('.json').isVisible()).toBe(true);
    expect(await extract.locator('.json-key').first().textContent()).toBe('words');
    await page.close();
  });

  it('loads a big run’s outputs and usage rows when their details are opened', async () => {
    const store = new MemoryRunStore();
    await chainPipeline(201, store).execute({}, undefined, { runId: 'chain-1' });
    const inspector = await open({ store });
    const { page } = await newPage();
    await page.goto(`${inspector.url}runs/chain-1`);
    expect(await page.locator('svg.dag g.node').count()).toBe(201);
    expect(await page.locator('details.step-detail').count()).toBe(0);
    await page.click('details.lazy[data-detail$="/steps"] > summary');
    await page.waitForSelector('details.step-detail#step-200');
    expect(await page.locator('details.step-detail').count()).toBe(201);
    await page.click('details#step-200 > summary');
    expect(await page.locator('details#step-200 .json').textContent()).toContain('index: 200');
    await page.click('details.lazy[data-detail$="/usage"] > summary');
    await page.waitForSelector('details.lazy[data-detail$="/usage"] table.usage tbody tr');
    expect(await page.locator('details.lazy[data-detail$="/usage"] table.usage tbody tr').count()).toBe(201);
    await page.close();
  });

  /** The relay pipeline running in a child process into a fresh SQLite file, once its first step is recorded. */
  async function relayInChild(runId: string, leaseSeconds?: number) {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-inspector-live-'));
    tempDirs.push(dir);
    const database = join(dir, 'runs.db');
    const release = join(dir, 'release');
    const store = new SqliteRunStore({ path: database });
    const child = fork(join(__dirname, 'support', 'relay-child.ts'), [database, runId, release, ...(leaseSeconds === undefined ? [] : [String(leaseSeconds)])], {
      cwd: REPO_ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      stdio: 'pipe',
    });
    children.push(child);
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(async () => ((await store.getRun(runId))?.steps.length ?? 0) === 1, 60_000, `the child's first step (${output})`);
    return { store, release, exited, output: () => output };
  }

  it('shows a run executing in another process turn to completed, live, without reloading', async () => {
    const { store, release, exited } = await relayInChild('relay-1');
    try {
      const inspector = await open({ store });
      const { page } = await newPage();
      await page.goto(`${inspector.url}runs/relay-1`);
      expect(await page.locator('#run-status').textContent()).toBe('running');
      expect(await page.locator('svg.dag g.node[data-step="0"]').getAttribute('class')).toContain('state-completed');
      expect(await page.locator('svg.dag g.node[data-step="1"]').getAttribute('class')).toContain('state-running');
      expect(await page.locator('svg.dag g.node[data-step="2"]').getAttribute('class')).toContain('state-pending');
      await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
      writeFileSync(release, 'go');
      await page.waitForSelector('#run-status:text-is("completed")', { timeout: 30_000 });
      expect(await page.locator('svg.dag g.node.state-completed').count()).toBe(3);
      expect(await page.locator('svg.gantt g.bar').count()).toBe(3);
      expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
      expect(await exited).toBe(0);
      await page.close();
    } finally {
      await store.close();
    }
  });

  it('cancels a run executing in another process when Cancel is clicked: that process aborts it at its next lease renewal', async () => {
    // A 0.9 s lease: the child asks the store for a cancellation every 0.3 s.
    const { store, release, exited, output } = await relayInChild('relay-2', 0.9);
    try {
      const inspector = await open({ store, pipelines: [relayPipeline(release)] });
      const { page } = await newPage();
      await page.goto(`${inspector.url}runs/relay-2`);
      expect(await page.locator('#run-status').textContent()).toBe('running');
      await page.click('button.cancel');
      await page.waitForSelector('text=Cancel requested', { timeout: 30_000 });
      await page.waitForSelector('#run-status:text-is("aborted")', { timeout: 30_000 });
      expect(await exited).toBe(1);
      expect(output()).toContain('PipelineAbortedError');
      expect(output()).toContain('cancelled from the inspector (a cancellation asked through the store)');
      const { run, steps } = (await store.getRun('relay-2'))!;
      expect(run.status).toBe('aborted');
      expect(steps.map((record) => [record.stepId, record.status])).toEqual([['first', 'completed']]);
      await page.close();
    } finally {
      await store.close();
    }
  });

  it('says on a watched run page, as text, that the store failed, and keeps the page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-inspector-problem-'));
    tempDirs.push(dir);
    const store = new SqliteRunStore({ path: join(dir, 'runs.db') });
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const inspector = await open({ store });
    const { page } = await newPage();
    await page.goto(`${inspector.url}runs/doc-1`);
    expect(await page.locator('#live-problem').count()).toBe(0);
    await store.close(); // the database goes away while the page watches the run
    await page.waitForSelector('#live-problem', { timeout: 30_000 });
    expect(await page.locator('#live-problem').textContent()).toMatch(/^Live updates paused: The run store failed to answer: ./);
    expect(await page.locator('svg.dag g.node').count()).toBe(5);
    await page.close();
  });

  it('resumes a stopped conversation when Resume is clicked, and shows it complete', async () => {
    const store = new MemoryRunStore();
    const mailbox: Mailbox = {};
    const pipeline = bookingPipeline(mailbox, store);
    await pipeline.execute({}, undefined, { runId: 'book-1' });
    const inspector = await open({ store, pipelines: [pipeline] });
    const { page } = await newPage();
    await page.goto(`${inspector.url}runs/book-1`);
    expect(await page.locator('#run-status').textContent()).toBe('stopped');
    expect(await page.locator('section.conversation').textContent()).toContain('Which dates?');
    mailbox.answer = 'May 3-5';
    await page.click('button.resume');
    await page.waitForSelector('#run-status:text-is("completed")', { timeout: 30_000 });
    expect(await page.locator('svg.dag g.node.state-completed').count()).toBe(3);
    expect(await page.locator('section.conversation').count()).toBe(0);
    expect(await page.locator('details#step-2').textContent()).toContain('"May 3-5"');
    await page.close();
  });

  it('shows XSS payloads from outputs, a step id and the pipeline name as text, and runs none of them', async () => {
    const store = new MemoryRunStore();
    await hostilePipeline(store).execute({}, undefined, { runId: 'hostile-1' });
    const inspector = await open({ store });
    const { page, dialogs } = await newPage();
    await page.goto(inspector.url);
    expect(await page.locator('td.pipeline').textContent()).toBe(XSS_SCRIPT);
    await page.goto(`${inspector.url}runs/hostile-1`);
    expect(await page.locator('h1 .pipeline').textContent()).toBe(XSS_SCRIPT);
    expect(await page.title()).toBe(`${XSS_SCRIPT} hostile-1 · fastroai inspector`);
    expect(await page.locator('table.usage td.step-id').first().textContent()).toBe(XSS_IMG);
    // The id is longer than a box: shortened in the box, whole in its tooltip.
    expect(await page.locator('svg.dag g.node[data-step="0"] title').textContent()).toBe(XSS_IMG);
    expect(await page.locator('svg.dag g.node[data-step="0"] text.node-id').textContent()).toBe(`${XSS_IMG.slice(0, 17)}…`);
    for (const detail of await page.locator('details.step-detail > summary').all()) await detail.click();
    const outputs = await page.locator('details.step-detail .json').allTextContents();
    expect(outputs.join('\n')).toContain(JSON.stringify(XSS_IMG));
    expect(outputs.join('\n')).toContain(JSON.stringify(`${XSS_SCRIPT}${XSS_IMG}`));
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1); // the inspector's own
    await page.waitForTimeout(300); // an onerror handler would fire by now
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('enforces the token off loopback: 401 without it, the page after a ?token= login', async () => {
    const token = 'a-long-enough-inspector-token';
    const address = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    // The machine's own non-loopback address when it has one; else every address, reached through loopback.
    const inspector = await open({ store, host: address ?? '0.0.0.0', token });
    const base = inspector.url;
    const context = await browser.newContext();
    const page = await context.newPage();
    const denied = await page.goto(`${base}runs/doc-1`);
    expect(denied!.status()).toBe(401);
    expect(await page.locator('svg.dag').count()).toBe(0);
    const login = await page.goto(`${base}runs/doc-1?token=${token}`);
    expect(login!.status()).toBe(200);
    expect(page.url()).toBe(`${base}runs/doc-1`);
    expect(await page.locator('svg.dag g.node').count()).toBe(5);
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'fastroai_inspector', httpOnly: true, sameSite: 'Lax' })]);
    expect(cookies[0].value).not.toContain(token);
    expect((await page.goto(base))!.status()).toBe(200);
    await context.close();
    const stranger = await browser.newPage();
    expect((await stranger.goto(base))!.status()).toBe(401);
    await stranger.close();
  });
});
