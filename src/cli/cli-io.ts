/** What a CLI command reads from and writes to: the process's, or a test's. */
export interface CliIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  /** Relative paths (`sqlite:.fastroai/runs.db`) are relative to it. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborted to stop a long-running command (SIGINT, SIGTERM). */
  signal: AbortSignal;
}
