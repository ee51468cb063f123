#!/usr/bin/env node
/**
 * The \`fastroai\` executable (package.json \`bin\`): \`npx fastroai inspect\`. SIGINT and SIGTERM stop
 * a running command cleanly (its server, then its store, are closed); a second one kills.
 */
import { runCli } from './run-cli';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

void runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  cwd: process.cwd(),
  env: process.env,
  signal: stop.signal,
}).then((status) => {
  process.exitCode = status;
  // Everything the command opened is closed; a connection a client keeps open (an event
  // stream) must not hold the process. unref: an exit that happens by itself comes first.
  setTimeout(() => process.exit(status), 2_000).unref();
});
