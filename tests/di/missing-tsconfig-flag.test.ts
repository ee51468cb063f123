import * as ts from 'typescript';
import * as fastroai from 'fastroai';
import * as tsyringe from 'tsyringe';
import { PipelineValidationError } from 'fastroai';
import { missingTsconfigFlag } from '../../src/di/missing-tsconfig-flag';
import { thrownBy } from '../support/async-helpers';

/**
 * A user's module, compiled here as the user's tsc would compile it under their tsconfig
 * (`ts.transpileModule`), then run against this repository's decorators and engine: its
 * `require('fastroai')` is the same module instance the test uses.
 */
const USER_MODULE = `
import { BaseStep, Pipeline, Step } from 'fastroai';
import { inject } from 'tsyringe';

export class Clock {
  now() { return 42; }
}

@Step()
export class TickStep extends BaseStep {
  constructor(private clock: Clock) { super(); }
  execute() { return this.clock.now(); }
}

@Step()
export class PlainStep extends BaseStep {
  execute() { return 'plain'; }
}

export function pipelineOf(steps: Array<new (...args: any[]) => BaseStep>) {
  return Pipeline.fromSteps({ name: 'user', steps });
}
`;

/** An `@inject`ed parameter, which needs no emitted type (a parameter decorator: legacy decorators only). */
const INJECTED_MODULE = `
import { BaseStep, Step } from 'fastroai';
import { inject } from 'tsyringe';

export const NOW = Symbol('now');

@Step()
export class InjectedStep extends BaseStep {
  constructor(@inject(NOW) private now: number) { super(); }
  execute() { return this.now; }
}
`;

function compileAndLoad(source: string, flags: ts.CompilerOptions): Record<string, any> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, ...flags },
  });
  const modules: Record<string, unknown> = { fastroai, tsyringe };
  const module = { exports: {} as Record<string, any> };
  const load = (id: string) => {
    if (!(id in modules)) throw new Error(`the fixture may only import fastroai and tsyringe, not ${id}`);
    return modules[id];
  };
  new Function('require', 'module', 'exports', outputText)(load, module, module.exports);
  return module.exports;
}

describe('a @Step class compiled without a tsconfig flag the decorators need', () => {
  it('runs with both flags on (the fixture is sound)', async () => {
    const user = compileAndLoad(USER_MODULE, { experimentalDecorators: true, emitDecoratorMetadata: true });
    expect((await user.pipelineOf([user.TickStep]).execute({})).output).toBe(42);
    expect(missingTsconfigFlag(user.TickStep)).toBeUndefined();
  });

  it('names emitDecoratorMetadata when it is off', () => {
    const user = compileAndLoad(USER_MODULE, { experimentalDecorators: true });
    expect(missingTsconfigFlag(user.TickStep)).toBe('emitDecoratorMetadata');
    const error = thrownBy(() => user.pipelineOf([user.TickStep]));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(
      "Step 'tick': TickStep has @Step() and constructor parameters, but it was compiled without \"emitDecoratorMetadata\": true, " +
        'so TypeScript emitted no parameter types for DI: set "emitDecoratorMetadata": true in tsconfig.json (or give every parameter @inject(Token))',
    );
    expect((error as Error).message).not.toMatch(/add @Step\(\)/);
  });

  it.each([
    ['both flags off', {}],
    ['only emitDecoratorMetadata on (TypeScript ignores it without experimentalDecorators)', { emitDecoratorMetadata: true }],
  ])('names experimentalDecorators with %s: @Step ran as a TC39 standard decorator', (_label, flags) => {
    const user = compileAndLoad(USER_MODULE, flags);
    expect(missingTsconfigFlag(user.TickStep)).toBe('experimentalDecorators');
    const error = thrownBy(() => new fastroai.Pipeline({ name: 'user', steps: { tick: user.TickStep } }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(
      /^Step 'tick': TickStep has @Step\(\) and constructor parameters, but it was compiled without "experimentalDecorators": true, so TypeScript applied @Step as a standard \(TC39\) decorator/,
    );
    expect((error as Error).message).toContain('set "experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig.json');
  });

  it.each([
    ['without emitDecoratorMetadata', { experimentalDecorators: true }],
    ['without experimentalDecorators', {}],
  ])('still runs a step without constructor parameters %s', async (_label, flags) => {
    const user = compileAndLoad(USER_MODULE, flags);
    expect(missingTsconfigFlag(user.PlainStep)).toBeUndefined();
    expect((await user.pipelineOf([user.PlainStep]).execute({})).output).toBe('plain');
  });

  it('still runs a step whose every parameter has @inject, without emitDecoratorMetadata', async () => {
    const user = compileAndLoad(INJECTED_MODULE, { experimentalDecorators: true });
    expect(missingTsconfigFlag(user.InjectedStep)).toBeUndefined();
    const container = tsyringe.container.createChildContainer();
    container.registerInstance(user.NOW, 7);
    const pipeline = new fastroai.Pipeline({ name: 'p', steps: { injected: user.InjectedStep }, container });
    expect((await pipeline.execute({})).output).toBe(7);
  });

  it('leaves a class without @Step to the DI messages', () => {
    class Plain {
      constructor(readonly clock: unknown) {}
    }
    expect(missingTsconfigFlag(Plain)).toBeUndefined();
  });
});
