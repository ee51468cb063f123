import { randomUUID } from 'node:crypto';
import { isRunId } from '../../src/inspector/run-id';

describe('isRunId', () => {
  it('accepts UUIDs and ids of letters, digits and _ . : -', () => {
    for (const id of [randomUUID(), 'doc-1', 'a.b:c_d', 'x'.repeat(200)]) expect(isRunId(id)).toBe(true);
  });

  it('refuses empty, dot-only, too long and any other character', () => {
    for (const id of ['', '.', '..', '...', 'x'.repeat(201), 'a/b', 'a\\b', 'a b', '<img>', 'a%2e', 'a\u0000']) expect(isRunId(id)).toBe(false);
  });
});
