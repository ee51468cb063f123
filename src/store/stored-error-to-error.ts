import type { StoredError } from '../store/run-store';

/** An Error from its stored form (name, code and message survive the store and the queue). */
export function storedErrorToError(stored: StoredError): Error {
  const error = new Error(stored.message);
  Object.defineProperty(error, 'name', { value: stored.name, enumerable: false, configurable: true, writable: true });
  if (stored.code !== undefined) Object.defineProperty(error, 'code', { value: stored.code, enumerable: true, configurable: true, writable: true });
  return error;
}
