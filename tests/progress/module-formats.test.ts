import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/**
 * The package's CommonJS output (what `npm run build` emits, without the type check), in a
 * temporary directory that sees the project's node_modules.
 */
function emitCommonJs(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'fastroai-progress-formats-'));
  symlinkSync(join(root, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  const { options } = ts.convertCompilerOptionsFromJson(
    { ...JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).compilerOptions, noEmit: false, paths: undefined },
    root,
  );
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'decorators'))]) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return outDir;
}

/** Renders a two-event run to a plain writable and prints what it resolved with and wrote. */
const program = (load: string) => `
${load}
const { of } = require_('rxjs');
const chunks = [];
const output = { isTTY: false, write: (chunk) => { chunks.push(String(chunk)); return true; } };
const result = { runId: 'r', output: 42, stepOutputs: {}, conversationState: undefined, usage: undefined,
  stoppedEarly: false, errors: {}, skipped: [], timings: {} };
renderProgress(of({ type: 'pipeline.started', pipeline: 'formats', runId: 'r', levels: [['a']] },
                  { type: 'pipeline.completed', result }), { output })
  .then((resolved) => console.log(JSON.stringify({ output: resolved.output, text: chunks.join('') })));
`;

describe('fastroai/progress loads from CommonJS and from ESM', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = emitCommonJs();
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('require()s it from CommonJS', async () => {
    const entry = join(outDir, 'src', 'progress', 'index.js');
    const { stdout } = await run(process.execPath, ['-e', program(`const require_ = require; const { renderProgress } = require(${JSON.stringify(entry)});`)], {
      cwd: outDir,
    });
    const printed = JSON.parse(stdout);
    expect(printed.output).toBe(42);
    expect(printed.text).toMatch(/formats: 1 step in 1 level\n.*formats finished in/);
  }, 60_000);

  it('imports it by name from an ES module (named exports Node can see)', async () => {
    const entry = pathToFileURL(join(outDir, 'src', 'progress', 'index.js')).href;
    const load = `import { renderProgress } from ${JSON.stringify(entry)};\nimport { createRequire } from 'node:module';\nconst require_ = createRequire(${JSON.stringify(pathToFileURL(join(outDir, 'x.js')).href)});`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', program(load)], { cwd: outDir });
    const printed = JSON.parse(stdout);
    expect(printed.output).toBe(42);
    expect(printed.text).toMatch(/formats finished in/);
  }, 60_000);
});
