import { BaseStep, DEPS, DependsOn, Step, TRACER, type StepOptions, type Tracer } from 'fastroai';
import type { InjectionToken } from 'tsyringe';
import { assertType, type Equal } from './type-assertions';

@Step({ id: 'ocr', timeout: 30, retries: 2, retryDelay: 0.5, costBudget: 10_000 })
class ExtractStep extends BaseStep {
  execute() {
    return 'text';
  }
}

// @Step() and @Step({ timeout: null }) are fine.
@Step()
@Step({ timeout: null, costBudget: null })
class BareStep extends BaseStep {
  execute() {
    return 1;
  }
}

// @DependsOn takes ids, classes and thunks, repeatedly.
@Step()
@DependsOn('ocr', ExtractStep, () => LaterStep)
@DependsOn(BareStep)
class ClassifyStep extends BaseStep {
  execute() {
    return 'billing';
  }
}

@Step()
class LaterStep extends BaseStep {
  execute() {
    return 2;
  }
}

// @ts-expect-error timeout is a number of seconds.
@Step({ timeout: '30s' })
class StringTimeoutStep extends BaseStep {
  execute() {
    return 1;
  }
}

// @ts-expect-error misspelt option.
@Step({ timout: 30 })
class TypoStep extends BaseStep {
  execute() {
    return 1;
  }
}

// @ts-expect-error a dependency is an id, a step class or a thunk.
@DependsOn(42)
class NumberDependencyStep extends BaseStep {
  execute() {
    return 1;
  }
}

// @ts-expect-error a thunk must return a step class.
@DependsOn(() => 'extract')
class ThunkToStringStep extends BaseStep {
  execute() {
    return 1;
  }
}

// The DI tokens are typed.
assertType<Equal<typeof TRACER, InjectionToken<Tracer>>>();
assertType<Equal<typeof DEPS, InjectionToken<unknown>>>();
assertType<Equal<StepOptions['retries'], number | undefined>>();

void [ClassifyStep, StringTimeoutStep, TypoStep, NumberDependencyStep, ThunkToStringStep];
