/* The decorators of the design card. */
export { Step, type StepOptions } from './step';
export { DependsOn } from './depends-on';
// export * from './metadata'; internal: the metadata format is read by src/ through its accessors only.
