import { bookingPipeline, converse } from '../../samples/multi-turn';

describe('samples/multi-turn', () => {
  it('asks for the missing fields until every one is given, then books', async () => {
    const transcript = await converse(['name: Ada', 'email: ada@example.com', 'date: 2026-12-10']);
    expect(transcript).toEqual([
      'user: name: Ada',
      'bot:  I still need your email and date.',
      'user: email: ada@example.com',
      'bot:  I still need your date.',
      'user: date: 2026-12-10',
      'bot:  Booked for Ada <ada@example.com> on 2026-12-10.',
    ]);
  });

  it('stops the run before the confirm step while a field is missing', async () => {
    const result = await bookingPipeline.execute({ message: 'name: Ada', known: {} });
    expect(result.stoppedEarly).toBe(true);
    expect(result.output).toBeUndefined();
    expect(Object.keys(result.stepOutputs)).toEqual(['gatherInfo']);
  });

  it('says so when the user never gives every field', async () => {
    const transcript = await converse(['hello']);
    expect(transcript[transcript.length - 1]).toContain('conversation ended');
  });
});
