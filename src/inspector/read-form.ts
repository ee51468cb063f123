import type { IncomingMessage } from 'node:http';

/** The largest action form read, in bytes (an action form holds a token and a step id). */
export const MAX_FORM_BYTES = 16 * 1024;

/** A request's URL-encoded form body; undefined when it is over {@link MAX_FORM_BYTES}. */
export async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
