import { runInNewContext } from 'node:vm';
import { StoreUnavailableError } from 'fastroai';

describe('StoreUnavailableError', () => {
  it("names the store, the run and the cause's message", () => {
    const error = new StoreUnavailableError('sqlite:/tmp/runs.db', 'run-1', new Error('disk I/O error'));
    expect(error.message).toBe("Run store sqlite:/tmp/runs.db is unavailable for run 'run-1': disk I/O error");
  });

  it('reads the message of an error from another realm (a native driver loaded by another jest module registry)', () => {
    const foreign: unknown = runInNewContext('(() => { class SqliteError extends Error {}; const e = new SqliteError("file is not a database"); e.name = "SqliteError"; return e; })()');
    expect(foreign instanceof Error).toBe(false);
    expect(new StoreUnavailableError('sqlite:/tmp/x', undefined, foreign).message).toBe('Run store sqlite:/tmp/x is unavailable: file is not a database');
  });
});
