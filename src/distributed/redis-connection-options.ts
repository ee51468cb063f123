import type { Redis, RedisOptions } from 'ioredis';
import { loadIoredis } from './load-bullmq';

/** A Redis connection as the distributed parts take it: ioredis options, or a client to share. */
export type RedisConnection = RedisOptions | Redis;

/** True for an ioredis client (rather than its options). */
export function isRedisClient(connection: RedisConnection): connection is Redis {
  return typeof (connection as { duplicate?: unknown }).duplicate === 'function';
}

/**
 * A new connection of our own (pub/sub needs one to itself): a duplicate of a given client, or
 * a client from the options, with `overrides` on top (ours only: a given client is not changed).
 * `maxRetriesPerRequest: null`, as BullMQ requires: commands wait for a reconnect instead of
 * failing after 20 tries.
 */
export function ownConnection(connection: RedisConnection, user: string, overrides: Pick<RedisOptions, 'enableAutoPipelining'> = {}): Redis {
  if (isRedisClient(connection)) return connection.duplicate(overrides);
  const { Redis: RedisClient } = loadIoredis(user);
  return new RedisClient({ ...connection, ...overrides, maxRetriesPerRequest: null });
}

/** The options BullMQ gets: a client as it is, options with `maxRetriesPerRequest: null`. */
export function bullConnection(connection: RedisConnection): RedisConnection {
  return isRedisClient(connection) ? connection : { ...connection, maxRetriesPerRequest: null };
}
