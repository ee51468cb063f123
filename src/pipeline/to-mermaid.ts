import type { StepGraph } from '../graph/step-graph';
import { escapeMermaidText } from './escape-mermaid-text';

/** Draws a step graph as a Mermaid `flowchart` (top-down, an edge from each dependency to its dependent). */
export function toMermaidFlowchart(graph: StepGraph): string {
  const lines = ['flowchart TD'];
  graph.ids.forEach((id, index) => lines.push(`  s${index}["${escapeMermaidText(id)}"]`));
  graph.dependencies.forEach((deps, index) => {
    for (const dep of deps) lines.push(`  s${dep} --> s${index}`);
  });
  return lines.join('\n');
}
