import { cpus, loadavg, totalmem } from 'node:os';

/** One line naming the machine the bench ran on: CPU model, cores, memory, Node and V8 versions. */
export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = (totalmem() / 2 ** 30).toFixed(0);
  return `${model}, ${cores.length} cores, ${memoryGiB} GiB RAM, Node ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}`;
}

/** The 1-minute load average (other processes competing for the cores make timings noisy). */
export function describeLoad(): string {
  return loadavg()[0].toFixed(2);
}
