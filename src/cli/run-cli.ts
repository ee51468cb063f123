import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CliIo } from './cli-io';
import { CliUsageError } from './cli-usage-error';
import { runInspectCommand } from './inspect-command';

export const CLI_HELP = `Usage: fastroai <command> [options]

Commands:
  inspect         Serve the run inspector, a web page over a run store

Options:
  -h, --help      Show this help
  -v, --version   Show the version of fastroai

Run 'fastroai <command> --help' for the options of a command.`;

/**
 * The \`fastroai\` command line: dispatches to a command and turns its errors into a message and
 * an exit status (1 for a failure, 2 for a command line that cannot be run as given).
 * @param args the arguments after the program name
 * @returns the exit status
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(CLI_HELP);
        return 0;
      case '-v':
      case '--version':
        io.out(versionOf());
        return 0;
      case 'inspect':
        return await runInspectCommand(rest, io);
      default:
        throw new CliUsageError(`Unknown command '${command}'. The commands: inspect.`);
    }
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`fastroai: ${error.message}`);
      io.err(`Run 'fastroai ${command === 'inspect' ? 'inspect ' : ''}--help' for help.`);
      return 2;
    }
    io.err(`fastroai: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** The version in fastroai's package.json, found upwards from this file (src/cli or dist/src/cli). */
function versionOf(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'fastroai') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}
