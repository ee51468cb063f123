import { createHash } from 'node:crypto';

/**
 * A statement as pg's query config takes it. With a `name`, pg prepares it once per connection:
 * later calls send only Bind and Execute, and PostgreSQL skips parsing and, once it settles on a
 * generic plan, planning.
 */
export interface PgStatement {
  readonly text: string;
  readonly name?: string;
}

/**
 * `text` as a named statement when `prepared`, else as a plain one. The name is a hash of the
 * text: the same text gets the same name in every store and on every connection (pg refuses one
 * name for two texts on one connection, so stores of two schemas sharing a pool must not share a
 * name), and it stays under PostgreSQL's 63-byte identifiers.
 */
export function namedStatementOf(text: string, prepared = true): PgStatement {
  return prepared ? { text, name: `fastroai_${createHash('sha256').update(text).digest('hex').slice(0, 32)}` } : { text };
}
