import { FastroAIError } from 'fastroai';
import {
  compareRunsNewestFirst,
  decodeRunListCursor,
  encodeRunListCursor,
  runListLimitOf,
} from '../../src/store/run-list-cursor';

describe('run list cursors', () => {
  it('round-trips a position, whatever the run id holds', () => {
    const position = { createdAt: 1_700_000_000_123, runId: 'run "with" quotes/and+slashes é' };
    const cursor = encodeRunListCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRunListCursor(cursor)).toEqual(position);
  });

  it('rejects a cursor no store wrote', () => {
    expect(() => decodeRunListCursor('not-a-cursor')).toThrow(FastroAIError);
    expect(() => decodeRunListCursor(Buffer.from('{"a":1}').toString('base64url'))).toThrow(/Invalid listRuns cursor/);
  });

  it('orders newest first, then by run id descending', () => {
    const runs = [
      { createdAt: 1, runId: 'b' },
      { createdAt: 2, runId: 'a' },
      { createdAt: 1, runId: 'c' },
    ];
    expect([...runs].sort(compareRunsNewestFirst).map((run) => `${run.createdAt}${run.runId}`)).toEqual(['2a', '1c', '1b']);
  });

  it('defaults the limit to 50 and refuses a limit that is not a positive integer', () => {
    expect(runListLimitOf(undefined)).toBe(50);
    expect(runListLimitOf(3)).toBe(3);
    expect(() => runListLimitOf(0)).toThrow(/positive integer, got 0/);
    expect(() => runListLimitOf(2.5)).toThrow(FastroAIError);
  });
});
