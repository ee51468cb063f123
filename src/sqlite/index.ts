// fastroai/sqlite: the embedded run store. Importing it does not load better-sqlite3; building a store does.
export { SqliteRunStore, type SqliteRunStoreOptions } from './sqlite-run-store';
