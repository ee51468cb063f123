/* The decorators of the design card. metadata.ts's writers are internal: not exported. */
export { Step, type StepOptions } from './step';
export { DependsOn } from './depends-on';
export { readStepMetadata, readDependsOnMetadata, type StepMetadata, type DependencyReference } from './metadata';
