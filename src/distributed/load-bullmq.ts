import { requireOptionalPeer } from '../store/require-optional-peer';

/** BullMQ, loaded when a QueueRunner or a worker is made (an optional peer: importing fastroai never loads it). */
export function loadBullmq(user: string): typeof import('bullmq') {
  return requireOptionalPeer<typeof import('bullmq')>('bullmq', '5', user);
}

/** ioredis, loaded when a QueueRunner or a worker is made (BullMQ 5 depends on it). */
export function loadIoredis(user: string): typeof import('ioredis') {
  return requireOptionalPeer<typeof import('ioredis')>('ioredis', '5', user);
}
