/**
 * Lays a DAG out in layers, left to right: a step's layer is its longest path from a step
 * without dependencies (its level), so every edge points right. Within a layer, steps start in
 * declaration order and are then sorted once by the mean position of their dependencies in
 * the layers before (the barycenter heuristic of Sugiyama et al., "Methods for Visual
 * Understanding of Hierarchical System Structures", 1981), which removes most crossings of
 * the usual pipeline shapes at linear cost.
 */

/** A step as the layout needs it. */
export interface LayoutNode {
  readonly level: number;
  readonly dependencies: readonly number[];
}

/** Where each node goes: its layer (column) and its row in the layer. */
export interface DagLayout {
  readonly column: Int32Array;
  readonly row: Int32Array;
  readonly columns: number;
  /** Rows of the tallest layer. */
  readonly rows: number;
}

/** Lays out `nodes` (indexed as given; `level` is the longest path to the node). */
export function layoutDag(nodes: readonly LayoutNode[]): DagLayout {
  const column = new Int32Array(nodes.length);
  const row = new Int32Array(nodes.length);
  const layers: number[][] = [];
  nodes.forEach((node, index) => {
    column[index] = node.level;
    (layers[node.level] ??= []).push(index);
  });
  let rows = 0;
  for (let level = 0; level < layers.length; level++) {
    const layer = layers[level] ?? [];
    const key = new Map<number, number>();
    layer.forEach((index, position) => {
      const dependencies = nodes[index].dependencies;
      key.set(index, dependencies.length === 0 ? position : dependencies.reduce((sum, dependency) => sum + row[dependency], 0) / dependencies.length);
    });
    if (level > 0) layer.sort((a, b) => key.get(a)! - key.get(b)! || a - b);
    layer.forEach((index, position) => (row[index] = position));
    rows = Math.max(rows, layer.length);
  }
  return { column, row, columns: layers.length, rows };
}
