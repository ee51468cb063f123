import type { InjectionToken } from 'tsyringe';
import type { Tracer } from '../tracing/tracer';

/**
 * DI token of the run's deps (the `deps` argument of `execute`/`run`). Inject it into a step
 * class's constructor: `constructor(@inject(DEPS) private deps: MyDeps)`.
 */
export const DEPS: InjectionToken<unknown> = Symbol.for('fastroai.DEPS');

/** DI token of the run's tracer (a `NoOpTracer` when tracing is off or none was given). */
export const TRACER: InjectionToken<Tracer> = Symbol.for('fastroai.TRACER');
