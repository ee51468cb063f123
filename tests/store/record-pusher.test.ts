import { tellWatchers, type PushWatcher } from '../../src/store/record-pusher';

/** A watcher that keeps what it is told. */
function watcher(wants?: (runId: string) => boolean): PushWatcher & { heard: Array<[string, readonly unknown[]]> } {
  const heard: Array<[string, readonly unknown[]]> = [];
  return { heard, listener: (runId, records) => void heard.push([runId, records]), wants };
}

describe('tellWatchers', () => {
  it('tells each watcher that wants the run the records of a push, parsed once', () => {
    const all = watcher();
    const wanting = watcher((runId) => runId === 'a","records":[x');
    const text = JSON.stringify({ runId: 'a","records":[x', records: [{ stepId: 'a' }] });
    tellWatchers([all, wanting], text);
    expect(all.heard).toEqual([['a","records":[x', [{ stepId: 'a' }]]]);
    expect(wanting.heard[0][1]).toBe(all.heard[0][1]);
  });

  it('parses nothing for a push no watcher wants (its records are never read)', () => {
    const picky = watcher(() => false);
    // Not JSON after the run id: a parse would fail, and nobody asks for one.
    tellWatchers([picky], '{"runId":"r1","records":[{not json');
    expect(picky.heard).toEqual([]);
    const all = watcher();
    tellWatchers([all], '{"runId":"r1","records":[{not json');
    expect(all.heard).toEqual([]);
  });

  it.each(['', 'null', '{"records":[],"runId":"r1"}', '{"runId":7,"records":[]}', '{"runId":"r1"}', '{"runId":"r1","records":[]']) ('ignores what is not a push: %s', (text) => {
    const all = watcher();
    tellWatchers([all], text);
    expect(all.heard).toEqual([]);
  });

  it('tells the others when a listener throws', () => {
    const failing: PushWatcher = {
      listener: () => {
        throw new Error('listener bug');
      },
      wants: undefined,
    };
    const after = watcher();
    tellWatchers([failing, after], '{"runId":"r1","records":[1]}');
    expect(after.heard).toEqual([['r1', [1]]]);
  });
});
