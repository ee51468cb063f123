/** A writable that keeps what was written, synchronously; a terminal when `isTTY`. */
export interface CapturedOutput extends NodeJS.WritableStream {
  isTTY: boolean;
  columns?: number;
  rows?: number;
  text(): string;
}

export function captureOutput(options: { isTTY?: boolean; columns?: number; rows?: number } = {}): CapturedOutput {
  const chunks: string[] = [];
  const output = {
    isTTY: options.isTTY ?? false,
    columns: options.columns,
    rows: options.rows,
    write(chunk: string | Uint8Array) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
    text: () => chunks.join(''),
  };
  return output as unknown as CapturedOutput;
}

/** Strips ANSI control sequences (cursor moves, line clears, cursor show/hide) and carriage returns. */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\r/g, '');
}
