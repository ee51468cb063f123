/* fastroai/redis: the run store on Redis (ioredis, an optional peer loaded only when a store opens its own connection). */
export { RedisRunStore, type RedisRunStoreOptions } from './redis-run-store';
