/**
 * The caller of the distributed sample: runs the document pipeline with its steps on the
 * workers (`QueueRunner`), draws the same live progress as a run in one process (each step
 * with the worker that ran it), and writes the run's Gantt chart, a bar per step named with
 * its worker, to demo-output/distributed-gantt.md (or FASTROAI_GANTT). Start workers first
 * (see worker.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { toMermaidGantt } from 'fastroai';
import { QueueRunner } from 'fastroai/distributed';
import { renderProgress } from 'fastroai/progress';
import { documentPipeline, sampleSettings } from './document-pipeline';

async function main(): Promise<void> {
  const { connection, prefix, store } = sampleSettings();
  const runner = new QueueRunner({ connection, prefix });
  try {
    const result = await renderProgress(documentPipeline().run({ document: 'invoice total 1000 EUR' }, undefined, { store, runner }));
    console.log(`output: ${String(result.output)} USD (run ${result.runId})`);
    for (const [stepId, timing] of Object.entries(result.timings)) console.log(`  ${stepId.padEnd(12)} ran on ${timing.workerId}`);
    const ganttPath = process.env.FASTROAI_GANTT ?? 'demo-output/distributed-gantt.md';
    mkdirSync(dirname(ganttPath), { recursive: true });
    writeFileSync(ganttPath, `\`\`\`mermaid\n${toMermaidGantt(result)}\n\`\`\`\n`);
    console.log(`Gantt chart: ${ganttPath}`);
  } finally {
    await runner.close();
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
