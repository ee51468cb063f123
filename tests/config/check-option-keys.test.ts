import { PipelineValidationError } from 'fastroai';
import { checkOptionKeys, optionKeysOf, unknownOptionMessage } from '../../src/config/check-option-keys';
import { thrownBy } from '../support/async-helpers';

const KEYS = ['timeout', 'retries', 'retryDelay', 'costBudget'];

describe('checkOptionKeys', () => {
  it('accepts options whose keys are all valid, and an empty object', () => {
    expect(() => checkOptionKeys('StepConfig options', { timeout: 1, retries: 2 }, KEYS)).not.toThrow();
    expect(() => checkOptionKeys('StepConfig options', {}, KEYS)).not.toThrow();
  });

  it('refuses a misspelt key, naming it, the nearest valid key and all of them', () => {
    const error = thrownBy(() => checkOptionKeys('StepConfig options', { retires: 2 }, KEYS));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(
      "StepConfig options: unknown option 'retires' (known: timeout, retries, retryDelay, costBudget). Did you mean 'retries'?",
    );
  });

  it('refuses a key given as undefined too', () => {
    expect(() => checkOptionKeys('StepConfig options', { timout: undefined }, KEYS)).toThrow(/unknown option 'timout'/);
  });

  it('names no nearest key when none is close', () => {
    expect(unknownOptionMessage('X options', 'colour', KEYS)).toBe(
      "X options: unknown option 'colour' (known: timeout, retries, retryDelay, costBudget).",
    );
  });

  it('throws the error the caller makes', () => {
    const error = thrownBy(() => checkOptionKeys('ctx.run options', { timout: 1 }, KEYS, (message) => new TypeError(message)));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^ctx\.run options: unknown option 'timout' .*Did you mean 'timeout'\?$/);
  });

  it('leaves a value that is not an object to the caller', () => {
    expect(() => checkOptionKeys('X', null, KEYS)).not.toThrow();
    expect(() => checkOptionKeys('X', 5, KEYS)).not.toThrow();
  });
});

describe('optionKeysOf', () => {
  it('lists the keys of an options type', () => {
    expect(optionKeysOf<{ a?: number; b: string }>({ a: true, b: true })).toEqual(['a', 'b']);
  });
});

describe('optionKeysOf, at compile time', () => {
  it('refuses a record that misses a key or has one the type does not', () => {
    // @ts-expect-error `b` is missing.
    optionKeysOf<{ a?: number; b: string }>({ a: true });
    // @ts-expect-error `c` is not an option.
    optionKeysOf<{ a?: number }>({ a: true, c: true });
    expect(true).toBe(true);
  });
});
