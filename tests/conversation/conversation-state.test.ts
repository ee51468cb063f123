import { ConversationState, ConversationStatus } from 'fastroai';
import { thrownBy } from '../support/async-helpers';

describe('ConversationState', () => {
  it('keeps status and data, and defaults context to {}', () => {
    const state = new ConversationState({ status: ConversationStatus.INCOMPLETE, data: { name: 'Ada' } });
    expect(state).toMatchObject({ status: 'incomplete', data: { name: 'Ada' }, context: {} });
  });

  it('refuses a misspelt option, naming the nearest one', () => {
    const error = thrownBy(() => new ConversationState({ status: ConversationStatus.COMPLETE, contxt: { a: 1 } } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      "ConversationState options: unknown option 'contxt' (known: status, data, context). Did you mean 'context'?",
    );
  });
});
