import { join } from 'node:path';
import { killAll, startChildProcess } from '../support/child-processes';

afterEach(() => killAll());

describe('observers whose promise rejects', () => {
  // In a child process: an unhandled rejection ends a Node process (code 1), which jest would not show.
  it('an async onEvent handler, logger or logMetric that rejects is reported once each and ends neither the run nor the process', async () => {
    const child = startChildProcess(join(__dirname, 'support', 'rejecting-observers-child.ts'), [], 'rejecting observers');
    expect((await child.message('done')).outputs).toEqual(['a', 'a', 'hi']);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const warnings = child.output().split('\n').filter((line) => line.startsWith('fastroai:'));
    expect(warnings).toEqual([
      expect.stringMatching(/onEvent handler .*onEvent rejected/),
      expect.stringMatching(/SimpleTracer logger\.info .*logger\.info rejected/),
      expect.stringMatching(/tracer\.logMetric .*logMetric rejected/),
    ]);
  }, 60_000);
});
