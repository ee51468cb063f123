import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Who holds a run's lease: `<hostname>:<pid>:<random>`, new for every run or resume. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
