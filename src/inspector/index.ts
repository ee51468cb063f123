/* fastroai/inspector: a web page over a RunStore (API.md §14). */
export { serveInspector, type InspectorOptions, type Inspector } from './serve-inspector';
// The renderers, the guards and the run view are internal.
