/* fastroai/progress: the live terminal view of a run (API.md §14). */
export { renderProgress, type RenderProgressOptions } from './render-progress';
// renderProgressWith, the views and the state are internal.
