/* fastroai/postgres: the run store on PostgreSQL (pg, an optional peer loaded only when a store opens its own pool). */
export { PostgresRunStore, type PostgresRunStoreOptions } from './postgres-run-store';
