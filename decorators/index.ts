/* The decorators of the design card. metadata.ts's writers are internal: not exported. */
export { readStepMetadata, readDependsOnMetadata, type StepMetadata, type DependencyReference } from './metadata';
