import { ConversationState, ConversationStatus, MemoryRunStore, Pipeline, PipelineAbortedError, step, type RunStore } from 'fastroai';
import { deferred } from '../support/async-helpers';
import { serveInspector, type Inspector } from 'fastroai/inspector';
import { SqliteRunStore } from 'fastroai/sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLL_INTERVAL_MS } from '../../src/inspector/stream-run-events';
import { fakeRun, writeRuns } from './support/fake-runs';
import { csrfTokenOf, httpRequestTo, postForm, waitFor } from './support/http-request';
import { XSS_IMG, XSS_SCRIPT, bookingPipeline, chainPipeline, documentPipeline, hostilePipeline, type Mailbox } from './support/sample-pipelines';

/** The inspector over HTTP: pages, escaping, paths, the token, CSRF and the actions. */

jest.setTimeout(30_000);

const opened: Inspector[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((inspector) => inspector.close()));
});

async function open(options: Parameters<typeof serveInspector>[0]): Promise<Inspector> {
  const inspector = await serveInspector({ port: 0, ...options });
  opened.push(inspector);
  return inspector;
}

describe('serveInspector pages', () => {
  it('binds 127.0.0.1 by default and lists runs with pipeline, status, start, duration and cost', async () => {
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({ document: 'x' }, undefined, { runId: 'doc-1' });
    await store.createRun(fakeRun({ runId: 'old-1', pipeline: 'ledger', status: 'failed', createdAt: Date.UTC(2026, 0, 2, 3, 4, 5), updatedAt: Date.UTC(2026, 0, 2, 3, 4, 7), costMicrocents: 1_500 }));
    const inspector = await open({ store });
    expect(inspector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await httpRequestTo(inspector.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<a href="/runs/doc-1">doc-1</a>');
    expect(page.body).toMatch(/<td class="pipeline">ledger<\/td><td class="status"><span class="badge status-failed">failed<\/span><\/td><td>2026-01-02 03:04:05<\/td><td class="num">2.00 s<\/td><td class="num">\$0\.001500<\/td>/);
    expect(page.body).toContain('<td class="num">$0.000250</td>'); // doc-1: classify's model call
  });

  it('filters by pipeline and status and pages 50 runs at a time', async () => {
    const store = new MemoryRunStore();
    await writeRuns(store, 60, 'bulk');
    await writeRuns(store, 3, 'other');
    await store.createRun(fakeRun({ runId: 'bulk-failed', pipeline: 'bulk', status: 'failed' }));
    const inspector = await open({ store });
    const first = await httpRequestTo(inspector.url, '/?pipeline=bulk&status=completed');
    const rowsOf = (html: string) => [...html.matchAll(/<tr class="run status-(\w+)">.*?<td class="pipeline">([^<]*)<\/td>/g)].map((match) => [match[1], match[2]]);
    expect(rowsOf(first.body)).toHaveLength(50);
    expect(rowsOf(first.body).every(([status, pipeline]) => status === 'completed' && pipeline === 'bulk')).toBe(true);
    const next = /<a href="([^"]+)" class="next-page"/.exec(first.body)![1].replace(/&amp;/g, '&');
    const second = await httpRequestTo(inspector.url, next);
    expect(rowsOf(second.body)).toHaveLength(10);
    expect(second.body).not.toContain('class="next-page"');
    expect((await httpRequestTo(inspector.url, '/?status=failed')).body).toContain('bulk-failed');
    expect((await httpRequestTo(inspector.url, '/?status=nonsense')).status).toBe(400);
    expect((await httpRequestTo(inspector.url, '/?cursor=%3Cscript%3E')).status).toBe(400);
  });

  it('shows a run: the DAG with each step state, the Gantt chart with the critical path, usage and cost with the total', async () => {
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({ document: 'x' }, undefined, { runId: 'doc-1' });
    const inspector = await open({ store });
    const { status, body } = await httpRequestTo(inspector.url, '/runs/doc-1');
    expect(status).toBe(200);
    expect(body.match(/<g class="node state-completed/g)).toHaveLength(5);
    expect(body).toContain('<g class="edges" data-edges="5">');
    // extract → classify → fetchMarket → calculate: three edges on the critical path, fetchUser off it.
    expect(/<path class="edge critical" d="([^"]+)"/.exec(body)![1].match(/M/g)).toHaveLength(3);
    expect(body.match(/<g class="bar state-completed/g)).toHaveLength(5);
    // fetchMarket takes longer than fetchUser: the path runs through it.
    expect(body).toMatch(/<g class="bar state-completed critical" data-step="2">/);
    expect(body).toMatch(/<g class="bar state-completed" data-step="3">/);
    expect(body).toContain('<td class="num" data-total-cost>$0.000250</td>');
    expect(body).toContain('<span class="json-key">words</span>');
    expect(body).toContain('<span class="json-date">2026-01-02T00:00:00.000Z</span>');
    expect(body).toContain('<summary>Set(1)</summary>');
  });

  it('puts a big run’s per-step usage rows and outputs behind details that load when opened', async () => {
    const store = new MemoryRunStore();
    await chainPipeline(201, store).execute({}, undefined, { runId: 'chain-1' });
    const inspector = await open({ store });
    const page = (await httpRequestTo(inspector.url, '/runs/chain-1')).body;
    expect(page.match(/<g class="node state-completed/g)).toHaveLength(201);
    expect(page.match(/<g class="bar state-completed/g)).toHaveLength(201);
    expect(page).toContain('<td class="num" data-total-cost>$0.000000</td>');
    expect(page).not.toContain('class="step-detail');
    expect(page).toContain('<details class="lazy" data-detail="/runs/chain-1/steps">');
    expect(page).toContain('<details class="lazy" data-detail="/runs/chain-1/usage">');
    const steps = await httpRequestTo(inspector.url, '/runs/chain-1/steps');
    expect(steps.headers['content-security-policy']).toBeDefined();
    expect(steps.body.match(/<details class="step-detail/g)).toHaveLength(201);
    expect(steps.body).toContain('<span class="json-key">index</span>: <span class="json-number">200</span>');
    const usage = await httpRequestTo(inspector.url, '/runs/chain-1/usage');
    expect(usage.body.match(/<tr data-step=/g)).toHaveLength(201);
    expect((await httpRequestTo(inspector.url, '/runs/missing/steps')).status).toBe(404);
    expect((await httpRequestTo(inspector.url, '/runs/chain-1/other')).status).toBe(404);
  });

  it('shows the conversation state of a stopped run', async () => {
    const store = new MemoryRunStore();
    const result = await bookingPipeline({}, store).execute({}, undefined, { runId: 'book-1' });
    expect(result.stoppedEarly).toBe(true);
    const inspector = await open({ store });
    const { body } = await httpRequestTo(inspector.url, '/runs/book-1');
    expect(body).toContain('<span class="badge status-stopped" id="run-status">stopped</span>');
    expect(body).toMatch(/<h2>Conversation state<\/h2><div class="json"><details open><summary>ConversationState \{3 keys\}<\/summary>/);
    expect(body).toContain('<span class="json-string">&quot;Which dates?&quot;</span>');
    expect(body).toMatch(/<g class="node state-incomplete[^"]*" data-step="1"/);
    expect(body).toMatch(/<g class="node state-skipped" data-step="2"/);
  });

  it('escapes every value of a run: outputs, a step id and the pipeline name', async () => {
    const store = new MemoryRunStore();
    const hostile = hostilePipeline(store);
    await hostile.execute({}, undefined, { runId: 'hostile-1' });
    // With the pipeline given, the page has actions too: the rerun list names every step.
    const inspector = await open({ store, pipelines: [hostile] });
    for (const path of ['/', '/runs/hostile-1', '/runs/hostile-1/steps', '/runs/hostile-1/usage']) {
      const { body } = await httpRequestTo(inspector.url, path);
      expect(body).not.toContain(XSS_IMG);
      expect(body).not.toContain(XSS_SCRIPT);
      expect(body).not.toContain('<script>alert');
      expect(body).toContain(path.endsWith('/usage') ? '&lt;img src=x onerror=alert(1)&gt;' : '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    const { body } = await httpRequestTo(inspector.url, '/runs/hostile-1');
    expect(body).toContain('<td class="step-id">&lt;img src=x onerror=alert(1)&gt;</td>');
    expect(body).toContain('<option value="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;</option>');
    expect(body).toContain('<span class="json-string">&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</span>');
  });

  it('answers 404 for a run the store does not have and 400 for a run id that is not an id', async () => {
    const inspector = await open({ store: new MemoryRunStore() });
    expect((await httpRequestTo(inspector.url, '/runs/missing')).status).toBe(404);
    expect((await httpRequestTo(inspector.url, '/api/runs/missing')).status).toBe(404);
    for (const id of ['..', '.', 'x%00y', '%2e%2e', 'a'.repeat(1_025)]) {
      expect([id, (await httpRequestTo(inspector.url, `/runs/${id}`)).status]).toEqual([id, 400]);
      expect([id, (await httpRequestTo(inspector.url, `/api/runs/${id}`)).status]).toEqual([id, 400]);
    }
  });

  it('lists, links and shows runs under any id a store holds: spaces, #, a slash, markup, other scripts', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({ name: 'ids', store, steps: { a: step(() => 'done') } });
    const ids = ['my run #1', 'tenant/42', '<img src=x onerror=alert(1)>', 'réservation?x=1&y=2'];
    for (const runId of ids) await pipeline.execute({}, undefined, { runId });
    // An emoji cut in two (`title.slice(0, n)`): no URL holds it; listed without a link, the list still served.
    await pipeline.execute({}, undefined, { runId: 'emoji cut \uD83D' });
    const inspector = await open({ store, pipelines: [pipeline] });
    const listed = await httpRequestTo(inspector.url, '/');
    expect(listed.status).toBe(200);
    const list = listed.body;
    expect(list).toContain('<span title="not an id the inspector serves">emoji cut');
    expect(list).not.toContain('<img src=x');
    for (const runId of ids) {
      const path = `/runs/${encodeURIComponent(runId)}`;
      expect(list).toContain(`href="${path}"`);
      const page = await httpRequestTo(inspector.url, path);
      expect([runId, page.status]).toEqual([runId, 200]);
      expect(page.body).not.toContain('<img src=x');
      const api = await httpRequestTo(inspector.url, `/api/runs/${encodeURIComponent(runId)}`);
      expect([runId, api.status, (JSON.parse(api.body) as { run: { runId: string } }).run.runId]).toEqual([runId, 200, runId]);
    }
    // An action on such a run: rerun 'a', then back to its page.
    const path = `/runs/${encodeURIComponent('tenant/42')}`;
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, path)).body);
    const rerun = await postForm(inspector.url, `${path}/rerun`, { csrf, step: 'a' });
    expect([rerun.status, rerun.headers.location]).toEqual([303, path]);
    await waitFor(async () => ((await store.getRun('tenant/42'))?.steps.length ?? 0) === 2, 10_000, 'the rerun record');
  });

  it('serves its own assets and no other file: no path traversal', async () => {
    const inspector = await open({ store: new MemoryRunStore() });
    const script = await httpRequestTo(inspector.url, '/assets/inspector.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await httpRequestTo(inspector.url, '/assets/inspector.css')).status).toBe(200);
    for (const path of [
      '/assets/../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/inspector.js/../../package.json',
      '/package.json',
      '/src/inspector/serve-inspector.ts',
    ]) {
      const response = await httpRequestTo(inspector.url, path);
      expect([path, response.status]).toEqual([path, response.status === 400 ? 400 : 404]);
      expect(response.body).not.toContain('"name": "fastroai"');
      expect(response.body).not.toContain('root:');
    }
  });

  it('answers only requests for a loopback host name when it has no token (DNS rebinding)', async () => {
    const inspector = await open({ store: new MemoryRunStore() });
    expect((await httpRequestTo(inspector.url, '/', { headers: { Host: 'evil.example:80' } })).status).toBe(403);
    expect((await httpRequestTo(inspector.url, '/', { headers: { Host: `localhost:${new URL(inspector.url).port}` } })).status).toBe(200);
  });
});

describe('serveInspector token', () => {
  it('refuses bad options, naming them', async () => {
    const store = new MemoryRunStore();
    await expect(serveInspector({ store, port: 70_000 })).rejects.toThrow('options.port must be an integer from 0 to 65535, got 70000');
    await expect(serveInspector({ store, token: '' })).rejects.toThrow('options.token must be a non-empty string');
    await expect(serveInspector({ store, token: 42 as never })).rejects.toThrow('options.token must be a non-empty string');
    await expect(serveInspector({ store, pipelines: [{}] as never })).rejects.toThrow('options.pipelines must be an array of Pipeline');
    await expect(serveInspector({ store: {} as never })).rejects.toThrow('options.store must be a RunStore');
    await expect(serveInspector({ store, tokn: 'x' } as never)).rejects.toThrow(/tokn/);
  });

  it('takes any non-empty token, a short one too', async () => {
    const inspector = await open({ store: new MemoryRunStore(), host: '0.0.0.0', token: 'secret' });
    expect((await httpRequestTo(inspector.url, '/api/runs', { headers: { Authorization: 'Bearer secret' } })).status).toBe(200);
    expect((await httpRequestTo(inspector.url, '/api/runs', { headers: { Authorization: 'Bearer secre' } })).status).toBe(401);
  });

  it('refuses to start off loopback without a token', async () => {
    await expect(serveInspector({ store: new MemoryRunStore(), host: '0.0.0.0', port: 0 })).rejects.toThrow(/refuses to bind '0.0.0.0' without a token/);
  });

  it('off loopback answers 401 without the token, and accepts a bearer header or a ?token= login cookie', async () => {
    const token = 'correct-horse-battery-staple';
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const inspector = await open({ store, host: '0.0.0.0', token });
    const url = inspector.url;
    expect((await httpRequestTo(url, '/')).status).toBe(401);
    expect((await httpRequestTo(url, '/runs/doc-1')).status).toBe(401);
    expect((await httpRequestTo(url, '/assets/inspector.js')).status).toBe(401);
    expect((await httpRequestTo(url, '/api/runs', { headers: { Authorization: 'Bearer wrong-token-here' } })).status).toBe(401);
    expect((await httpRequestTo(url, '/?token=wrong-token-here')).status).toBe(401);
    const bearer = await httpRequestTo(url, '/api/runs', { headers: { Authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(200);
    expect(JSON.parse(bearer.body).runs[0].runId).toBe('doc-1');
    const login = await httpRequestTo(url, `/runs/doc-1?token=${token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/runs/doc-1');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toContain(token);
    const session = cookie.split(';')[0];
    expect((await httpRequestTo(url, '/runs/doc-1', { headers: { Cookie: session } })).status).toBe(200);
    expect((await httpRequestTo(url, '/runs/doc-1', { headers: { Cookie: 'fastroai_inspector=forged' } })).status).toBe(401);
  });
});

describe('serveInspector actions', () => {
  it('resumes a stopped conversation with a form POST carrying the CSRF token, and refuses it without one or from another origin', async () => {
    const store = new MemoryRunStore();
    const mailbox: Mailbox = {};
    const pipeline = bookingPipeline(mailbox, store);
    await pipeline.execute({}, undefined, { runId: 'book-1' });
    const inspector = await open({ store, pipelines: [pipeline] });
    const page = await httpRequestTo(inspector.url, '/runs/book-1');
    const csrf = csrfTokenOf(page.body);
    mailbox.answer = 'May 3-5';
    expect((await postForm(inspector.url, '/runs/book-1/resume', {})).status).toBe(403);
    expect((await postForm(inspector.url, '/runs/book-1/resume', { csrf: 'x'.repeat(csrf.length) })).status).toBe(403);
    expect((await postForm(inspector.url, '/runs/book-1/resume', { csrf }, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await postForm(inspector.url, '/runs/book-1/resume', { csrf }, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await store.getRun('book-1'))!.run.status).toBe('stopped');
    const accepted = await postForm(inspector.url, '/runs/book-1/resume', { csrf });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.location).toBe('/runs/book-1');
    await waitFor(async () => (await store.getRun('book-1'))!.run.status === 'completed', 10_000, 'the resumed run to complete');
    const { body } = await httpRequestTo(inspector.url, '/runs/book-1');
    expect(body).toContain('<span class="json-string">&quot;May 3-5&quot;</span>');
  });

  it('reruns a step and its dependents as a new generation', async () => {
    const store = new MemoryRunStore();
    const pipeline = documentPipeline({ store });
    await pipeline.execute({}, undefined, { runId: 'doc-1' });
    const inspector = await open({ store, pipelines: [pipeline] });
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, '/runs/doc-1')).body);
    expect((await postForm(inspector.url, '/runs/doc-1/rerun', { csrf, step: 'fetchUser' })).status).toBe(303);
    await waitFor(async () => (await store.getRun('doc-1'))!.steps.length === 7, 10_000, 'two new records');
    const generations = (await store.getRun('doc-1'))!.steps.filter((record) => record.generation === 2).map((record) => record.stepId);
    expect(generations.sort()).toEqual(['calculate', 'fetchUser']);
    await waitFor(async () => (await store.getRun('doc-1'))!.run.status === 'completed');
    expect((await httpRequestTo(inspector.url, '/runs/doc-1')).body).toContain('generation 2 of 2');
  });

  it('shows no actions and refuses them for a pipeline it was not given', async () => {
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const inspector = await open({ store, pipelines: [bookingPipeline({})] });
    const page = await httpRequestTo(inspector.url, '/runs/doc-1');
    expect(page.body).not.toContain('name="csrf"');
    await store.createRun(fakeRun({ runId: 'book-x', pipeline: 'booking', fingerprint: '{}' }));
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, '/runs/book-x')).body);
    expect((await postForm(inspector.url, '/runs/doc-1/resume', { csrf })).status).toBe(409);
  });

  it('cancels a run it resumed by aborting its signal', async () => {
    const store = new MemoryRunStore();
    let calls = 0;
    const waiting = new Pipeline({
      name: 'waiting',
      store,
      steps: {
        first: step(() => 1),
        slow: step((ctx) => {
          calls += 1;
          // The first turn stops the run; the resumed one waits until it is cancelled.
          if (calls === 1) return new ConversationState({ status: ConversationStatus.INCOMPLETE });
          return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        }),
      },
      dependencies: { slow: ['first'] },
    });
    await waiting.execute({}, undefined, { runId: 'wait-1' });
    const inspector = await open({ store, pipelines: [waiting] });
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, '/runs/wait-1')).body);
    await postForm(inspector.url, '/runs/wait-1/resume', { csrf });
    await waitFor(() => calls === 2, 10_000, 'the resumed step to start');
    const running = await httpRequestTo(inspector.url, '/runs/wait-1');
    expect(running.body).toContain('<span class="badge status-running" id="run-status">running</span>');
    expect(running.body).toMatch(/<g class="node state-running[^"]*" data-step="1"/);
    expect(running.body).toContain(' — run by this inspector</dd>');
    expect((await postForm(inspector.url, '/runs/wait-1/cancel', { csrf })).status).toBe(303);
    expect((await store.getRun('wait-1'))!.run.status).toBe('aborted');
    expect((await httpRequestTo(inspector.url, '/runs/wait-1')).body).toContain('Cancelled: the run was aborted');
  });

  it('offers Resume (and Cancel) for a crashed run, running with its lease expired, and resumes it', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({ name: 'bulk', store, steps: { only: step(() => 'done') } });
    await pipeline.execute({}, undefined, { runId: 'model-1' });
    const { fingerprint } = (await store.getRun('model-1'))!.run;
    await store.createRun(fakeRun({ runId: 'crashed-1', pipeline: 'bulk', fingerprint, status: 'running', owner: 'dead-host:1:aa', leaseUntil: Date.now() - 1 }));
    const inspector = await open({ store, pipelines: [pipeline] });
    const page = (await httpRequestTo(inspector.url, '/runs/crashed-1')).body;
    expect(page).toContain('class="resume"');
    expect(page).toContain('class="cancel"');
    await store.createRun(fakeRun({ runId: 'live-2', pipeline: 'bulk', fingerprint, status: 'running', owner: 'other-host:2:bb', leaseUntil: Date.now() + 60_000 }));
    expect((await httpRequestTo(inspector.url, '/runs/live-2')).body).not.toContain('class="resume"');
    await postForm(inspector.url, '/runs/crashed-1/resume', { csrf: csrfTokenOf(page) });
    await waitFor(async () => (await store.getRun('crashed-1'))!.run.status === 'completed', 10_000, 'the crashed run to be resumed');
  });

  it('cancels at once a run this process executes through the same store (not at its next lease renewal)', async () => {
    const store = new MemoryRunStore();
    const started = deferred<void>();
    const pipeline = new Pipeline({
      name: 'held',
      store,
      steps: {
        wait: step(
          (ctx) =>
            new Promise((_, reject) => {
              started.resolve();
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
            }),
        ),
      },
    });
    // A 60 s lease: renewed (and a cancellation request read) every 20 s, past this test's timeout.
    const running = pipeline.execute({}, undefined, { runId: 'held-1', leaseSeconds: 60 });
    running.catch(() => undefined);
    await started.promise;
    const inspector = await open({ store, pipelines: [pipeline] });
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, '/runs/held-1')).body);
    expect((await postForm(inspector.url, '/runs/held-1/cancel', { csrf })).status).toBe(303);
    const error = await running.then(() => undefined, (reason: unknown) => reason);
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    expect(String((error as Error).cause)).toContain('cancelled from the inspector');
    expect((await store.getRun('held-1'))!.run.status).toBe('aborted');
    expect((await httpRequestTo(inspector.url, '/runs/held-1')).body).toContain('Cancelled: the run, executing in this process, was aborted');
  });

  it('asks the process holding a live lease to cancel through the store, and marks a run whose lease expired aborted', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({ name: 'bulk', steps: { only: step(() => 1) } });
    await store.createRun(fakeRun({ runId: 'live-1', status: 'running', owner: 'other-host:42:aa', epoch: 3, leaseUntil: Date.now() + 60_000 }));
    await store.createRun(fakeRun({ runId: 'gone-1', status: 'running', owner: 'other-host:43:bb', leaseUntil: Date.now() - 1 }));
    const inspector = await open({ store, pipelines: [pipeline] });
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, '/runs/live-1')).body);
    expect((await postForm(inspector.url, '/runs/live-1/cancel', { csrf })).status).toBe(303);
    // The holder reads the request at its next renewal (tests/inspector/inspector-browser.test.ts runs it across processes).
    expect((await store.getRun('live-1'))!.run.status).toBe('running');
    expect(await store.cancelRequested('live-1', 3)).toBe('cancelled from the inspector');
    expect((await httpRequestTo(inspector.url, '/runs/live-1')).body).toContain('Cancel requested: other-host:42:aa, the process holding the run&#39;s lease, cancels the run when it next renews the lease');
    await postForm(inspector.url, '/runs/gone-1/cancel', { csrf });
    const gone = (await store.getRun('gone-1'))!.run;
    expect(gone.status).toBe('aborted');
    expect(gone.error?.message).toContain('lease of other-host:43:bb expired');
  });

  it('refuses to cancel a run another process holds when its store cannot ask that process (no requestCancel)', async () => {
    const memory = new MemoryRunStore();
    // A user's store with the required methods only.
    const store: RunStore = {
      createRun: (run) => memory.createRun(run),
      claimRun: (...args) => memory.claimRun(...args),
      renewLease: (...args) => memory.renewLease(...args),
      recordSteps: (...args) => memory.recordSteps(...args),
      setRunStatus: (...args) => memory.setRunStatus(...args),
      addRunCost: (...args) => memory.addRunCost(...args),
      getRun: (runId) => memory.getRun(runId),
      listRuns: (query) => memory.listRuns(query),
      close: () => memory.close(),
    };
    const pipeline = new Pipeline({ name: 'bulk', steps: { only: step(() => 1) } });
    await store.createRun(fakeRun({ runId: 'live-1', status: 'running', owner: 'other-host:42:aa', epoch: 3, leaseUntil: Date.now() + 60_000 }));
    const inspector = await open({ store, pipelines: [pipeline] });
    const csrf = csrfTokenOf((await httpRequestTo(inspector.url, '/runs/live-1')).body);
    await postForm(inspector.url, '/runs/live-1/cancel', { csrf });
    expect((await store.getRun('live-1'))!.run.status).toBe('running');
    expect(await memory.cancelRequested('live-1', 3)).toBeUndefined();
    expect((await httpRequestTo(inspector.url, '/runs/live-1')).body).toContain('is executing in another process (other-host:42:aa) that holds its lease, and this store has no requestCancel');
  });
});

describe('serveInspector live updates', () => {
  it('streams a new page body over server-sent events when the store changes', async () => {
    const store = new MemoryRunStore();
    const mailbox: Mailbox = {};
    const pipeline = bookingPipeline(mailbox, store);
    await pipeline.execute({}, undefined, { runId: 'book-1' });
    const inspector = await open({ store });
    const page = await httpRequestTo(inspector.url, '/runs/book-1');
    const events = /data-events="([^"]+)"/.exec(page.body)![1].replace(/&amp;/g, '&');
    const controller = new AbortController();
    const response = await fetch(new URL(events, inspector.url), { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    mailbox.answer = 'June';
    await pipeline.resume('book-1');
    let text = '';
    while (!text.includes('event: update')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = JSON.parse(/event: update\ndata: (.*)\n/.exec(text)![1]) as { status: string; html: string };
    expect(data.status).toBe('completed');
    expect(data.html).toContain('<span class="badge status-completed" id="run-status">completed</span>');
  });
});

describe('serveInspector under an adversarial store', () => {
  it('answers 503 naming the failure when the store fails mid-request, tells a watching page, and goes on serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-inspector-broken-'));
    try {
      const store = new SqliteRunStore({ path: join(dir, 'runs.db') });
      await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
      const inspector = await open({ store });
      expect((await httpRequestTo(inspector.url, '/runs/doc-1')).status).toBe(200);
      const stream = await fetch(new URL('/runs/doc-1/events?since=none', inspector.url));
      const reader = stream.body!.getReader();
      let text = '';
      while (!text.includes('event: update')) text += new TextDecoder().decode((await reader.read()).value);
      await store.close(); // the database goes away under the running inspector
      for (const path of ['/', '/runs/doc-1', '/runs/doc-1/steps', '/runs/doc-1/usage', '/api/runs', '/api/runs/doc-1']) {
        const response = await httpRequestTo(inspector.url, path);
        expect([path, response.status]).toEqual([path, 503]);
        expect(response.body).toMatch(/^The run store failed to answer: .+/);
        expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      }
      while (!text.includes('event: problem')) text += new TextDecoder().decode((await reader.read()).value);
      expect(JSON.parse(/event: problem\ndata: (.*)\n/.exec(text)![1]).message).toMatch(/^The run store failed to answer: /);
      await reader.cancel();
      expect((await httpRequestTo(inspector.url, '/assets/inspector.js')).status).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 for a hand-written store that throws instead of rejecting', async () => {
    const store = new MemoryRunStore();
    store.getRun = () => {
      throw new Error('connection reset');
    };
    const inspector = await open({ store });
    const response = await httpRequestTo(inspector.url, '/runs/doc-1');
    expect(response.status).toBe(503);
    expect(response.body).toBe('The run store failed to answer: connection reset\n');
  });

  it('stops reading the store for a run page once its event stream is closed (a closed tab)', async () => {
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const counted = countGetRunCalls(store);
    const inspector = await open({ store });
    const base = new URL(inspector.url);
    const request = httpRequest({ host: base.hostname, port: base.port, path: '/runs/doc-1/events' });
    request.on('error', () => undefined);
    request.on('response', (response) => response.resume());
    request.end();
    await waitFor(() => counted.reads >= 3, 10_000, 'the stream to poll the store');
    request.destroy();
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS * 2)); // a poll in flight ends
    const afterClose = counted.reads;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS * 5));
    expect(counted.reads).toBe(afterClose);
  });

  it('opens no event stream for a HEAD request (nothing reads it; a kept-alive connection would keep it polling)', async () => {
    const store = new MemoryRunStore();
    await documentPipeline({ store }).execute({}, undefined, { runId: 'doc-1' });
    const counted = countGetRunCalls(store);
    const inspector = await open({ store });
    expect((await httpRequestTo(inspector.url, '/runs/doc-1/events', { method: 'HEAD' })).status).toBe(200);
    expect(counted.reads).toBe(0);
  });

  it('shows a hand-written store’s non-string values as text (a number owner, a null worker id), no 500', async () => {
    const store = new MemoryRunStore();
    await store.createRun(fakeRun({ runId: 'odd-1', owner: 42 as unknown as string, pipeline: 7 as unknown as string }));
    const claimed = await store.claimRun('odd-1', 'writer', 10_000);
    await store.recordSteps('odd-1', claimed.epoch, [
      { stepId: 'only', generation: 1, status: 'completed', output: '1', usage: {} as never, attempts: 1, startedAt: 1, endedAt: 2, workerId: 99 as unknown as string },
    ]);
    const inspector = await open({ store });
    const { status, body } = await httpRequestTo(inspector.url, '/runs/odd-1');
    expect(status).toBe(200);
    expect(body).toContain('<dd class="workers"><span class="worker">99</span> (1 step)</dd>');
    expect(body).toContain('<td class="worker">99</td>');
    expect((await httpRequestTo(inspector.url, '/')).status).toBe(200);
  });

  it('shows huge outputs when opened, not in the page (nor in every live update)', async () => {
    const store = new MemoryRunStore();
    const big = 'x'.repeat(600_000);
    await new Pipeline({ name: 'big', store, steps: { one: step(() => big), two: step(() => big), three: step(() => 'small') }, dependencies: { three: ['one', 'two'] } }).execute({}, undefined, { runId: 'big-1' });
    const inspector = await open({ store });
    const page = await httpRequestTo(inspector.url, '/runs/big-1');
    expect(page.body.length).toBeLessThan(50_000);
    expect(page.body).not.toContain('class="step-detail');
    expect(page.body).toContain('<details class="lazy" data-detail="/runs/big-1/steps">');
    expect(page.body.match(/<tr data-step=/g)).toHaveLength(3); // the usage rows stay in the page
    const steps = await httpRequestTo(inspector.url, '/runs/big-1/steps');
    expect(steps.body.match(/<details class="step-detail/g)).toHaveLength(3);
    expect(steps.body).toContain('… (600000 characters)');
  });
});

/** Counts the store's `getRun` calls from now on. */
function countGetRunCalls(store: MemoryRunStore): { reads: number } {
  const counted = { reads: 0 };
  const getRun = store.getRun.bind(store);
  store.getRun = (runId) => {
    counted.reads += 1;
    return getRun(runId);
  };
  return counted;
}
