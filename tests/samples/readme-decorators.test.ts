import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
// The "Decorator style" section: README-decorators.md until it is merged into README.md.
const separate = join(root, 'README-decorators.md');
const readme = existsSync(separate) ? readFileSync(separate, 'utf8') : sectionOf(readFileSync(join(root, 'README.md'), 'utf8'), '## Decorator style');

/** The text of a `## ` section, up to the next one. */
function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no '${heading}' section`);
  const next = markdown.indexOf('\n## ', start + heading.length);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** The fenced blocks of a language, in order. */
function blocks(language: string): string[] {
  return [...readme.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)\\n```', 'g'))].map((match) => match[1]);
}

/** A chart with its numbers blanked out: what stays is the structure (steps, levels, critical path). */
function shape(chart: string): string {
  return chart.replace(/\d+(\.\d+)?/g, 'N');
}

describe('README: Decorator style', () => {
  it('shows samples/decorated-pipeline.ts verbatim as its example', () => {
    const sample = readFileSync(join(root, 'samples', 'decorated-pipeline.ts'), 'utf8').trimEnd();
    expect(blocks('ts')[0]).toBe(sample);
  });

  it('has an example that runs unchanged with ts-node (type-checked) when copied into a file, and a Gantt chart it really draws', async () => {
    const dir = mkdtempSync(join(root, 'tmp-readme-decorators-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, blocks('ts')[0] + '\n');
      const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
      delete env.OPENAI_API_KEY;
      const { stdout } = await run('npx', ['ts-node', file], { cwd: root, env, timeout: 150_000 });
      expect(stdout).toContain('level 3 done: calculate');
      expect(stdout).toContain("{ kind: 'invoice', customer: 'Acme Robotics', usd: 972 }");
      const drawn = stdout.slice(stdout.indexOf('gantt')).trimEnd();
      expect(shape(blocks('mermaid')[0])).toBe(shape(drawn));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
