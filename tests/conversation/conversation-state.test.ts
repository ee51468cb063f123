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

  it('refuses options that are not an object, a status that is not a ConversationStatus, and a context that is not an object', () => {
    expect(() => new ConversationState(undefined as never)).toThrow(new TypeError('ConversationState expects options { status, data?, context? }, got undefined'));
    expect(() => new ConversationState({ status: 'bogus' } as never)).toThrow(
      new TypeError("ConversationState status must be ConversationStatus.COMPLETE or INCOMPLETE ('complete', 'incomplete'), got 'bogus'"),
    );
    expect(() => new ConversationState({ status: ConversationStatus.INCOMPLETE, context: ['missing'] } as never)).toThrow(/ConversationState context must be an object/);
    expect(new ConversationState({ status: 'incomplete' as ConversationStatus }).status).toBe(ConversationStatus.INCOMPLETE);
  });
});
