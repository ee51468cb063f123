/** StepContext's constructor as API.md §5 gives it: one options object (issue 8). */
import { StepContext, type StepContextOptions } from 'fastroai';
import { assertType, type Equal } from './type-assertions';

interface AppDeps {
  apiKey: string;
}

// The public constructor, and only it, is what ConstructorParameters sees.
assertType<Equal<ConstructorParameters<typeof StepContext<AppDeps>>, [options: StepContextOptions<AppDeps>]>>();

const ctx = new StepContext<AppDeps>({ stepId: 'a', inputs: {}, deps: { apiKey: 'k' }, stepOutputs: {} });
assertType<Equal<typeof ctx.deps, AppDeps>>();

// @ts-expect-error stepOutputs is required.
new StepContext<AppDeps>({ stepId: 'a', inputs: {}, deps: { apiKey: 'k' } });
