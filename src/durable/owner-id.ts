import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Who holds a run's lease: `<hostname>:<pid>:<random>`, new for every run or resume. */
export function newOwnerId(): string {
  return `${(host ??= hostname())}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** The host's name, read once per process (`os.hostname()` is a system call). */
let host: string | undefined;
