import { Pipeline, step } from 'fastroai';
import { randomDag } from '../bench/random-dag';
const deps = randomDag(10000, 2);
const steps: Record<string, any> = {}; const d: Record<string, string[]> = {};
deps.forEach((ds, i) => { steps['s' + i] = step(() => i); if (ds.length) d['s' + i] = ds.map((j) => 's' + j); });
const p = new Pipeline({ name: 'b', steps, dependencies: d, outputStep: 's9999' });
(async () => { for (let r = 0; r < 100; r++) await p.execute({}); })();
