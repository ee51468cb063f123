/**
 * Child processes of the distributed tests (workers, callers): the shared helpers of
 * ../../support/child-processes.ts, with scripts named relative to this folder. Every child
 * started here is killed by {@link killAll} (call it in afterEach).
 */
import { join } from 'node:path';
import { startChildProcess, type Child } from '../../support/child-processes';

export { killAll, waitUntil, type Child, type ChildMessage } from '../../support/child-processes';

/** Starts `script` of this folder with `args`. */
export function startChild(script: string, args: string[], label: string): Child {
  return startChildProcess(join(__dirname, script), args, label);
}
