/**
 * The tables of `SqliteRunStore`, created when a store opens (`IF NOT EXISTS`: every process
 * opening the file may run it). Runs are listed newest first through the three indexes; step
 * records keep the order they were written in `seq`. `fastroai_cancel_requests` holds the
 * cancellation last asked of each run, for the epoch that ran then (`requestCancel`).
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS fastroai_runs (
  run_id TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  input TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  cost_microcents INTEGER NOT NULL,
  owner TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  lease_until INTEGER NOT NULL,
  error TEXT,
  conversation_state TEXT
);
CREATE INDEX IF NOT EXISTS fastroai_runs_newest ON fastroai_runs (created_at DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS fastroai_runs_pipeline_newest ON fastroai_runs (pipeline, created_at DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS fastroai_runs_status_newest ON fastroai_runs (status, created_at DESC, run_id DESC);
CREATE TABLE IF NOT EXISTS fastroai_steps (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  generation INTEGER NOT NULL,
  status TEXT NOT NULL,
  output TEXT,
  usage TEXT NOT NULL,
  error TEXT,
  attempts INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  worker_id TEXT,
  UNIQUE (run_id, step_id, generation)
);
CREATE INDEX IF NOT EXISTS fastroai_steps_by_run ON fastroai_steps (run_id, seq);
CREATE TABLE IF NOT EXISTS fastroai_cancel_requests (
  run_id TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  reason TEXT NOT NULL
);
`;
