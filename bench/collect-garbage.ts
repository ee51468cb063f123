import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's full garbage collection, so that one measurement does not pay for the garbage of the
 * previous one and heap sizes are stable. `node --expose-gc` provides `global.gc`; without the
 * flag it is switched on at run time (the documented `--expose-gc` flag, set late).
 */
function resolveGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export const collectGarbage: () => void = resolveGc();
