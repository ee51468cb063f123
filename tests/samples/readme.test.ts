import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('README', () => {
  it('shows samples/quick-start.ts verbatim as its quick start', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const sample = readFileSync(join(root, 'samples', 'quick-start.ts'), 'utf8').trimEnd();
    expect(readme).toContain('```ts\n' + sample + '\n```');
  });

  it('gives the two set-up commands and the test command CI runs', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
