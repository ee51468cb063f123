/** A command line that cannot be run as given: the CLI prints the message and a hint to `--help`, and exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
