import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('README', () => {
  it('shows samples/quick-start.ts verbatim as its quick start', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const sample = readFileSync(join(root, 'samples', 'quick-start.ts'), 'utf8').trimEnd();
    expect(readme).toContain('```ts\n' + sample + '\n```');
  });

  it('quotes samples/conversation-resume.ts in "Durable runs": each excerpt is in the sample', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Durable runs\n'));
    const block = /```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(block).toBeDefined();
    // Compared line by line, indentation aside: the README dedents the excerpts.
    const sample = readFileSync(join(root, 'samples', 'conversation-resume.ts'), 'utf8').split('\n').map((line) => line.trim()).join('\n');
    const excerpts = block!.split(/^\/\/ …$/m).map((excerpt) => excerpt.split('\n').map((line) => line.trim()).join('\n').trim());
    expect(excerpts.length).toBeGreaterThan(3);
    for (const excerpt of excerpts) expect(sample).toContain(excerpt);
  });

  it('gives the two set-up commands and the test command CI runs', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
