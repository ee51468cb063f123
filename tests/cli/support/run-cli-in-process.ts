import { runCli } from '../../../src/cli/run-cli';

/** A `fastroai` command run in this process: what it printed, and how to stop it. */
export interface CliInProcess {
  out: string[];
  err: string[];
  /** The exit status, once the command ends. */
  status: Promise<number>;
  /** Resolves with the first URL printed (the inspector's), or rejects when the command ends first. */
  url(): Promise<string>;
  /** What SIGINT does to the executable: aborts the command's signal. */
  stop(): void;
}

/** Runs `runCli(args)` with captured output and a stop signal. */
export function runCliInProcess(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliInProcess {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  let ended = false;
  const status = runCli(args, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? {},
    signal: controller.signal,
  }).finally(() => {
    ended = true;
  });
  const url = async (): Promise<string> => {
    for (;;) {
      const found = out.join('\n').match(/https?:\/\/\S+/)?.[0];
      if (found !== undefined) return found;
      if (ended) throw new Error(`the command ended (status ${await status}) without printing a URL:\n${[...out, ...err].join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { out, err, status, url, stop: () => controller.abort() };
}
