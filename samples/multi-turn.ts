/**
 * Multi-turn: a gather-info step returns INCOMPLETE until the user has given every field.
 * The run stops early (nothing after it starts), the app asks the user for what is missing,
 * and runs again with the answers merged in. Scripted replies stand in for a real user.
 *
 *   npx ts-node samples/multi-turn.ts
 */
import { ConversationState, ConversationStatus, Pipeline, step } from 'fastroai';

interface Booking {
  name?: string;
  email?: string;
  date?: string;
}

const REQUIRED_FIELDS = ['name', 'email', 'date'] as const;

/** Parses "field: value" pairs out of a message, like an extraction agent would. */
function extractFields(message: string): Booking {
  const fields: Booking = {};
  for (const match of message.matchAll(/\b(name|email|date)\s*:\s*([^,;]+)/gi)) {
    fields[match[1].toLowerCase() as keyof Booking] = match[2].trim();
  }
  return fields;
}

const gatherInfo = step((ctx): ConversationState<Booking> => {
  const known = ctx.getInput<Booking>('known', {});
  const booking: Booking = { ...known, ...extractFields(ctx.getInput<string>('message', '')) };
  const missing = REQUIRED_FIELDS.filter((field) => !booking[field]);
  return new ConversationState({
    status: missing.length === 0 ? ConversationStatus.COMPLETE : ConversationStatus.INCOMPLETE,
    data: booking,
    context: { missing },
  });
});

const confirm = step((ctx) => {
  const booking = ctx.getDependency<ConversationState<Booking>>('gatherInfo').data!;
  return `Booked for ${booking.name} <${booking.email}> on ${booking.date}.`;
});

export const bookingPipeline = new Pipeline<unknown, { message: string; known: Booking }, string>({
  name: 'booking',
  steps: { gatherInfo, confirm },
  dependencies: { confirm: ['gatherInfo'] },
});

/** Runs the conversation over scripted user messages; returns the transcript. */
export async function converse(userMessages: string[]): Promise<string[]> {
  const transcript: string[] = [];
  let known: Booking = {};
  for (const message of userMessages) {
    transcript.push(`user: ${message}`);
    const result = await bookingPipeline.execute({ message, known });
    const state = result.conversationState as ConversationState<Booking>;
    known = state.data ?? known;
    if (result.stoppedEarly) {
      transcript.push(`bot:  I still need your ${(state.context.missing as string[]).join(' and ')}.`);
      continue;
    }
    transcript.push(`bot:  ${result.output}`);
    return transcript;
  }
  transcript.push('bot:  (conversation ended before every field was given)');
  return transcript;
}

if (require.main === module) {
  converse(['Hi, I would like to book. name: Ada Lovelace', 'Sure, email: ada@example.com', 'date: 2026-12-10']).then(
    (transcript) => console.log(transcript.join('\n')),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
