import { existsSync } from 'node:fs';
import { Pipeline, step } from 'fastroai';

/**
 * The `relay` pipeline (`first → held → last`) of the inspector's cross-process tests: `held`
 * waits until the file `releaseFile` exists (the test decides when the run goes on), or until
 * its signal aborts.
 */
export function relayPipeline(releaseFile: string): Pipeline {
  return new Pipeline({
    name: 'relay',
    steps: {
      first: step(() => ({ handedOver: true })),
      held: step(async (ctx) => {
        while (!existsSync(releaseFile)) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        return 'released';
      }),
      last: step(() => 'done'),
    },
    dependencies: { held: ['first'], last: ['held'] },
  });
}
