/**
 * What an uncaught error, a logger or a test runner shows of `error`: the first line of its
 * stack, without the class name (`Step 'a' depends on unknown: 'x'. Known steps: ['a']`). An
 * unknown step id's hint is there, not in the message (API.md's messages are exact).
 */
export function shownMessageOf(error: unknown): string {
  return String((error as Error).stack).split('\n')[0].replace(/^[A-Za-z]*Error: /, '');
}
