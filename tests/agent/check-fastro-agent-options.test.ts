import { FastroAgent } from 'fastroai';
import { thrownBy } from '../support/async-helpers';

describe('FastroAgent options', () => {
  it('refuses a misspelt option, naming the nearest one', () => {
    const error = thrownBy(() => new FastroAgent({ model: 'openai:gpt-4o-mini', timout: 5 } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^FastroAgent options: unknown option 'timout' \(known: model, systemPrompt, .*\)\. Did you mean 'timeout'\?$/);
    expect(() => new FastroAgent({ systemprompt: 'Be brief.' } as never)).toThrow(/Did you mean 'systemPrompt'\?$/);
  });

  it('refuses a timeout above what a Node timer can wait', () => {
    expect(() => new FastroAgent({ timeout: 1e7 })).toThrow(
      new TypeError("FastroAgent timeout must be at most 2147483.647 seconds (about 24.8 days: Node's timers fire at once beyond that), got 10000000"),
    );
  });

  it('accepts every documented option', () => {
    const agent = new FastroAgent({ model: 'openai:gpt-4o-mini', systemPrompt: 's', temperature: 0, maxTokens: 10, timeout: 30, maxRetries: 0, maxSteps: 2 });
    expect(agent.timeout).toBe(30);
  });
});
