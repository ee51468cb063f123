import { checkOptionKeys } from '../config/check-option-keys';
import { isLoopbackHost } from './access-guard';
import type { InspectorOptions } from './serve-inspector';

const INSPECTOR_OPTION_KEYS: readonly string[] = ['store', 'pipelines', 'host', 'port', 'token'];

/**
 * Checks `serveInspector`'s options, naming the bad one (and a misspelt key); refuses a host that is not
 * loopback without a token (anyone who reaches it could read every run).
 * @throws TypeError
 */
export function checkInspectorOptions(options: InspectorOptions): InspectorOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('serveInspector expects options { store, pipelines?, host?, port?, token? }');
  checkOptionKeys('serveInspector options', options, INSPECTOR_OPTION_KEYS, (message) => new TypeError(message));
  const { store, pipelines, host, port, token } = options;
  if (typeof store?.getRun !== 'function' || typeof store.listRuns !== 'function') throw new TypeError('serveInspector options.store must be a RunStore');
  if (pipelines !== undefined && (!Array.isArray(pipelines) || pipelines.some((pipeline) => typeof pipeline?.resume !== 'function'))) {
    throw new TypeError('serveInspector options.pipelines must be an array of Pipeline');
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) throw new TypeError('serveInspector options.host must be a non-empty string');
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new TypeError(`serveInspector options.port must be an integer from 0 to 65535, got ${String(port)}`);
  // Any non-empty string: how long a secret to choose is the user's call (a long random one is best).
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw new TypeError('serveInspector options.token must be a non-empty string');
  if (host !== undefined && !isLoopbackHost(host) && token === undefined) {
    throw new TypeError(`serveInspector refuses to bind '${host}' without a token: anyone who can reach it could read every run. Pass { token } (or bind 127.0.0.1).`);
  }
  return options;
}
