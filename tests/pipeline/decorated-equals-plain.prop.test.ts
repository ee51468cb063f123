/**
 * Property: a DAG declared with @Step/@DependsOn classes (Pipeline.fromSteps) and the same DAG
 * declared in the plain style (new Pipeline with step() instances and a dependencies record)
 * have the same levels and output step, and their runs produce the same outputs.
 *
 * The decorated classes are generated per case: default ids (class name `Node3Step` → `node3`)
 * or explicit ones, each dependency referenced by id, by class or by thunk, split over one or
 * more @DependsOn decorators.
 */
import { test } from '@fast-check/jest';
import fc from 'fast-check';
import { BaseStep, DependsOn, Pipeline, Step, step, type StepClass, type StepContext } from 'fastroai';

type Reference = 'id' | 'class' | 'thunk';

interface PlannedNode {
  /** Direct dependencies, as indices of earlier nodes (topological). */
  dependencies: number[];
  references: Reference[];
  /** How many @DependsOn decorators the references are split over (at least 1 when there are any). */
  decorators: number;
  explicitId: boolean;
  async: boolean;
}

interface Scenario {
  nodes: PlannedNode[];
  /** Declaration order: a permutation of the node indices. */
  order: number[];
  outputNode: number;
  outputAsClass: boolean;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .array(
    fc.record({
      backOffsets: fc.uniqueArray(fc.nat({ max: 30 }), { maxLength: 4 }),
      references: fc.array(fc.constantFrom<Reference>('id', 'class', 'thunk'), { minLength: 4, maxLength: 4 }),
      decorators: fc.integer({ min: 1, max: 3 }),
      explicitId: fc.boolean(),
      async: fc.boolean(),
      rank: fc.nat(),
    }),
    { minLength: 1, maxLength: 24 },
  )
  .chain((raw) =>
    fc.record({
      nodes: fc.constant(
        raw.map((r, index): PlannedNode => {
          const dependencies = index === 0 ? [] : [...new Set(r.backOffsets.map((offset) => index - 1 - (offset % index)))];
          return { dependencies, references: r.references, decorators: r.decorators, explicitId: r.explicitId, async: r.async };
        }),
      ),
      order: fc.constant(raw.map((_, index) => index).sort((a, b) => raw[a].rank - raw[b].rank || a - b)),
      outputNode: fc.integer({ min: 0, max: raw.length - 1 }),
      outputAsClass: fc.boolean(),
    }),
  );

/** What node `index` computes from its dependencies' outputs (the same in both styles). */
function combine(index: number, inputs: number[]): number {
  return inputs.reduce((total, value, k) => (total * 31 + value * (k + 7)) % 1_000_003, index + 1);
}

function idOf(index: number, node: PlannedNode): string {
  return node.explicitId ? `step_${index}` : `node${index}`;
}

function buildDecorated(s: Scenario): Pipeline<unknown, Record<string, unknown>, unknown> {
  const classes: StepClass[] = s.nodes.map((node, index) => {
    const dependencyClasses = () => node.dependencies.map((dep) => classes[dep]);
    const generated = class extends BaseStep<unknown, number> {
      async execute(ctx: StepContext): Promise<number> {
        if (node.async) await Promise.resolve();
        // Read dependencies by class: typed access resolves the class to its id.
        const inputs = dependencyClasses().map((dependency) => ctx.getDependency(dependency) as number);
        return combine(index, inputs);
      }
    };
    // Default ids derive from the class name; explicit ids ignore it.
    Object.defineProperty(generated, 'name', { value: node.explicitId ? `Custom${index}` : `Node${index}Step` });
    return generated;
  });
  s.nodes.forEach((node, index) => {
    const references = node.dependencies.map((dep, k) => {
      const kind = node.references[k % node.references.length];
      if (kind === 'id') return idOf(dep, s.nodes[dep]);
      if (kind === 'class') return classes[dep];
      return () => classes[dep];
    });
    // Split over several @DependsOn decorators: they add up.
    const groups = Math.min(node.decorators, Math.max(references.length, 1));
    for (let g = 0; g < groups; g++) {
      const group = references.filter((_, k) => k % groups === g);
      if (group.length > 0) DependsOn(...group)(classes[index]);
    }
    Step(node.explicitId ? { id: idOf(index, node) } : undefined)(classes[index]);
  });
  const outputId = idOf(s.outputNode, s.nodes[s.outputNode]);
  return Pipeline.fromSteps({
    name: 'decorated',
    steps: s.order.map((index) => classes[index]),
    outputStep: s.outputAsClass ? classes[s.outputNode] : outputId,
  });
}

function buildPlain(s: Scenario): Pipeline<unknown, Record<string, unknown>, unknown> {
  const steps: Record<string, ReturnType<typeof step>> = {};
  const dependencies: Record<string, string[]> = {};
  for (const index of s.order) {
    const node = s.nodes[index];
    const depIds = node.dependencies.map((dep) => idOf(dep, s.nodes[dep]));
    steps[idOf(index, node)] = step(async (ctx: StepContext) => {
      if (node.async) await Promise.resolve();
      return combine(index, depIds.map((id) => ctx.getDependency<number>(id)));
    });
    if (depIds.length > 0) dependencies[idOf(index, node)] = depIds;
  }
  return new Pipeline({ name: 'plain', steps, dependencies, outputStep: idOf(s.outputNode, s.nodes[s.outputNode]) });
}

describe('decorated and plain definitions of the same DAG', () => {
  test.prop([scenario], { numRuns: 150 })('have the same levels and output step, and produce the same results', async (s) => {
    const decorated = buildDecorated(s);
    const plain = buildPlain(s);
    expect(decorated.levels).toEqual(plain.levels);
    expect(decorated.outputStep).toBe(plain.outputStep);
    // Same nodes and edges (edge order follows the order the dependencies were written in).
    expect(decorated.toMermaid().split('\n').sort()).toEqual(plain.toMermaid().split('\n').sort());
    const [fromDecorated, fromPlain] = await Promise.all([decorated.execute({}), plain.execute({})]);
    expect(fromDecorated.stepOutputs).toEqual(fromPlain.stepOutputs);
    expect(fromDecorated.output).toBe(fromPlain.output);
    expect(Object.keys(fromDecorated.stepOutputs)).toHaveLength(s.nodes.length);
  });
});
