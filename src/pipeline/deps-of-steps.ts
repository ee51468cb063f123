import type { StepContext } from '../context/step-context';
import type { StepClass } from '../steps/base-step';

/** The `Deps` a step class's `execute(ctx: StepContext<Deps>)` takes; `unknown` when it takes no context. */
export type DepsOfStep<C> = C extends abstract new (...args: any[]) => { execute(ctx: StepContext<infer Deps>, ...rest: any[]): unknown }
  ? Deps
  : unknown;

/**
 * The deps a pipeline of step classes needs: every step's `Deps`, intersected
 * (`[A (AppDeps), B (unknown), C (DbDeps)]` → `AppDeps & DbDeps`). Each `Deps` is boxed in a
 * parameter first, so an `unknown` one does not swallow the union the intersection is read from.
 */
export type DepsOfSteps<S extends readonly StepClass[]> = {
  [K in keyof S]: (deps: DepsOfStep<S[K]>) => void;
}[number] extends (deps: infer Deps) => void
  ? Deps
  : never;
