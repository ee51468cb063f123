import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as ts from 'typescript';
import { SqliteRunStore } from 'fastroai/sqlite';
import { makeRunRecord } from '../store/run-store-contract';

/**
 * The package as someone else's project gets it: built, packed, the tarball installed in a
 * temporary project (offline: extracted into its node_modules, the packages it needs linked
 * from this repo's node_modules), then a consumer compiled with this repo's TypeScript and run
 * under every moduleResolution, as CommonJS and as ESM.
 */

const repoRoot = resolve(__dirname, '../..');
const repoModules = realpathSync(join(repoRoot, 'node_modules'));
const tsc = require.resolve('typescript/bin/tsc', { paths: [repoRoot] });
const fixture = readFileSync(join(__dirname, 'fixtures/consumer.ts'), 'utf8');

interface PackedPackage {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
}

interface Variant {
  name: string;
  moduleResolution: 'node' | 'node16' | 'bundler';
  module: string;
  /** The consumer project's package.json `type`. */
  type: 'commonjs' | 'module';
  /** The consumer's file name; its extension decides the format under node16. */
  source: string;
  /**
   * Set when tsc only checks the types and a bundler makes the program: tsc cannot emit
   * CommonJS under `moduleResolution: bundler` (TS5095), so, like esbuild, the test strips the
   * types file by file into CommonJS.
   */
  bundleAs?: 'commonjs';
}

const variants: Variant[] = [
  { name: 'node-cjs', moduleResolution: 'node', module: 'commonjs', type: 'commonjs', source: 'consumer.ts' },
  { name: 'node-esm', moduleResolution: 'node', module: 'es2022', type: 'module', source: 'consumer.ts' },
  { name: 'node16-cjs', moduleResolution: 'node16', module: 'node16', type: 'commonjs', source: 'consumer.ts' },
  { name: 'node16-esm', moduleResolution: 'node16', module: 'node16', type: 'commonjs', source: 'consumer.mts' },
  { name: 'bundler-cjs', moduleResolution: 'bundler', module: 'preserve', type: 'commonjs', source: 'consumer.ts', bundleAs: 'commonjs' },
  { name: 'bundler-esm', moduleResolution: 'bundler', module: 'esnext', type: 'module', source: 'consumer.ts' },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let workDir: string;
let packed: PackedPackage;
let packedFiles: string[];
/** The packed README's Installation section, and the tsconfig it gives (the consumers start from it). */
let installation: string;
let readmeCompilerOptions: Record<string, unknown>;

beforeAll(() => {
  // No build first: `npm pack` builds the package itself (its prepack script), as from a clean clone.
  rmSync(join(repoRoot, 'dist'), { recursive: true, force: true });
  workDir = mkdtempSync(join(tmpdir(), 'fastroai-consumer-'));
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: repoRoot, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packedFiles = pack.files.map((file) => file.path);
  execFileSync('tar', ['-xzf', join(workDir, pack.filename), '-C', workDir]);
  const modules = join(workDir, 'node_modules');
  mkdirSync(modules);
  renameSync(join(workDir, 'package'), join(modules, 'fastroai'));
  packed = JSON.parse(readFileSync(join(modules, 'fastroai/package.json'), 'utf8')) as PackedPackage;
  installation = sectionOf(readFileSync(join(modules, 'fastroai/README.md'), 'utf8'), '## Installation');
  const tsconfigBlock = /```json\n([\s\S]*?)\n\s*```/.exec(installation);
  readmeCompilerOptions = tsconfigBlock ? (JSON.parse(tsconfigBlock[1]) as { compilerOptions: Record<string, unknown> }).compilerOptions : {};
  // What npm would install next to it: its dependencies and the peers this repo has (the
  // application's own copies), plus the Node types every TypeScript project on Node has.
  linkInstalledPackages(modules);
}, 300_000);

/**
 * What npm would install next to fastroai in `modules`: its dependencies and the peers this repo
 * has (the application's own copies), plus the Node types every TypeScript project on Node has;
 * `leaveOut` names packages the application did not install.
 */
function linkInstalledPackages(modules: string, leaveOut: string[] = []): void {
  const needed = [...Object.keys(packed.dependencies ?? {}), ...Object.keys(packed.peerDependencies ?? {}), '@types/node'];
  for (const name of needed) {
    const target = join(repoModules, name);
    if (!existsSync(target) || leaveOut.includes(name)) continue;
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(target, join(modules, name), 'dir');
  }
}

/**
 * Links the package's \`bin\` into \`modules\`/.bin as \`npm install\` does: with npm's own
 * bin-links (symlink, executable bit, shebang checked).
 */
async function linkBins(modules: string): Promise<void> {
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const binLinks = require(join(npmRoot, 'npm', 'node_modules', 'bin-links')) as (options: {
    path: string;
    pkg: unknown;
    top: boolean;
    global: boolean;
    force: boolean;
  }) => Promise<unknown>;
  await binLinks({ path: join(modules, 'fastroai'), pkg: packed, top: false, global: false, force: true });
}

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

/** The text of a `## ` section of a markdown file, up to the next one ('' when absent). */
function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + heading.length);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** The package's module sub-paths (`./package.json` and other non-module entries left out). */
function moduleSubpaths(pkg: PackedPackage): string[] {
  return Object.entries(pkg.exports)
    .filter(([key, target]) => key !== '.' && typeof target === 'object' && 'types' in target)
    .map(([key]) => `fastroai/${key.slice(2)}`);
}

/** Writes the consumer project of `variant`, compiles it and runs it; returns its JSON line. */
function compileAndRun(variant: Variant): Record<string, unknown> {
  const dir = join(workDir, variant.name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${variant.name}`, private: true, type: variant.type }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...readmeCompilerOptions,
        target: 'ES2022',
        lib: ['ES2022'],
        module: variant.module,
        moduleResolution: variant.moduleResolution,
        types: ['node'],
        rootDir: '.',
        outDir: 'out',
      },
      files: [variant.source],
    }),
  );
  const imports = moduleSubpaths(packed)
    .map((specifier, i) => `import * as subpath${i} from '${specifier}';\ncheckSubpath('${specifier}', subpath${i});`)
    .join('\n');
  writeFileSync(join(dir, variant.source), fixture.replace('// SUBPATH-IMPORTS', imports));
  const compiled = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`tsc (${variant.name}) failed:\n${compiled.stdout}${compiled.stderr}`);
  let output = join(dir, 'out', variant.source.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs'));
  if (variant.bundleAs === 'commonjs') {
    output = join(dir, 'out', 'bundle.cjs');
    writeFileSync(output, bundleAsCommonJs(readFileSync(join(dir, variant.source), 'utf8')));
  }
  const ran = spawnSync(process.execPath, [output], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (ran.status !== 0) throw new Error(`consumer (${variant.name}) failed:\n${ran.stdout}${ran.stderr}`);
  return JSON.parse(ran.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** What a bundler emitting CommonJS makes of the consumer: its types stripped, its imports `require`s. */
function bundleAsCommonJs(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
    },
  }).outputText;
}

describe('the packed package', () => {
  it('ships its LICENSE, README and compiled code, and no tests, sources or source maps', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts']));
    expect(packedFiles.filter((file) => file.endsWith('.map'))).toEqual([]);
    expect(packedFiles.filter((file) => /(^|\/)tests?\//.test(file) || /\.test(-d)?\.[jt]s$/.test(file))).toEqual([]);
    expect(packedFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('has a README that says what to install next to it, the tsconfig it needs and how to use a built tarball', () => {
    expect(installation).toContain('npm install fastroai tsyringe rxjs zod reflect-metadata');
    expect(installation).toContain("import 'reflect-metadata';");
    expect(installation).toContain('@ai-sdk/anthropic');
    expect(readmeCompilerOptions).toMatchObject({ experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: true });
    expect(installation).toContain('npm run build && npm pack');
    expect(installation).toMatch(/npm install \S*fastroai-0\.1\.0\.tgz/);
  });

  it("publishes StepContext's public constructor, and only that one (API.md §5)", () => {
    const declaration = readFileSync(join(workDir, 'node_modules/fastroai/dist/src/context/step-context.d.ts'), 'utf8');
    expect(declaration.match(/constructor\(.*\);/g)).toEqual(['constructor(options: StepContextOptions<Deps>);']);
  });

  it('declares tsyringe, rxjs and zod as peers, so the application and fastroai share one copy', () => {
    for (const name of ['tsyringe', 'rxjs', 'zod']) {
      expect(packed.peerDependencies).toHaveProperty(name);
      expect(packed.dependencies ?? {}).not.toHaveProperty(name);
    }
  });

  it('has a types entry for every sub-path that names a shipped declaration file', () => {
    const entries = Object.entries(packed.exports).filter(([, target]) => typeof target === 'object');
    expect(entries.length).toBeGreaterThan(1);
    for (const [, target] of entries) {
      const conditions = target as Record<string, string>;
      expect(packedFiles).toContain(conditions.types.replace(/^\.\//, ''));
      expect(packedFiles).toContain(conditions.default.replace(/^\.\//, ''));
    }
  });

  it.each(variants.map((variant) => [variant.name, variant] as const))(
    'compiles and runs a consumer of the root and every sub-path (%s)',
    (_name, variant) => {
      const report = compileAndRun(variant);
      expect(report).toMatchObject({
        // The application's registerInstance reached the step: one tsyringe copy.
        greeting: 'Hello Ada!',
        tone: 'polite',
        costMicrocents: 250,
        direct: 'Hi Bob',
        dollars: 1,
      });
      expect(report.outerId).toMatch(UUID);
      expect(report.innerId).toBe(report.outerId);
      const subpaths = report.subpaths as Record<string, number>;
      expect(Object.keys(subpaths).sort()).toEqual(moduleSubpaths(packed).sort());
      for (const count of Object.values(subpaths)) expect(count).toBeGreaterThan(0);
    },
    240_000,
  );
});

describe('the fastroai command of the installed package (npx fastroai)', () => {
  let bin: string;
  let project: string;

  beforeAll(async () => {
    project = join(workDir, 'cli-project');
    mkdirSync(project);
    await linkBins(join(workDir, 'node_modules'));
    bin = join(workDir, 'node_modules', '.bin', 'fastroai');
  }, 60_000);

  /** Runs the linked executable to its end, as a user's shell does (no node in front). */
  function runBin(args: string[], cwd = project): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  }

  it('is declared in package.json and linked by npm as node_modules/.bin/fastroai', () => {
    expect((packed as { bin?: unknown }).bin).toEqual({ fastroai: 'dist/src/cli/fastroai.js' });
    expect(packedFiles).toContain('dist/src/cli/fastroai.js');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints its help and version', () => {
    const help = runBin(['--help']);
    expect(help).toMatchObject({ status: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: fastroai <command> \[options\]\n/);
    expect(help.stdout).toContain('inspect');
    expect(runBin(['inspect', '--help']).stdout).toContain('--store <url>');
    expect(runBin(['--version']).stdout.trim()).toBe('0.1.0');
  });

  it('serves the runs list of a SQLite store, and stops on SIGINT with status 0', async () => {
    const dbPath = join(project, 'runs.db');
    const writer = new SqliteRunStore({ path: dbPath });
    await writer.createRun(makeRunRecord('run-from-the-tarball-test', { pipeline: 'packaged_pipeline' }));
    await writer.close();

    const child = spawn(bin, ['inspect', '--store', `sqlite:${dbPath}`, '--port', '0'], { cwd: project });
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const found = /https?:\/\/\S+/.exec(output)?.[0];
          if (found !== undefined) resolve(found);
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', () => reject(new Error(`fastroai inspect exited before printing a URL:\n${output}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('packaged_pipeline');
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('the default store is .fastroai/runs.db of the working directory: missing, it says so and exits 1', () => {
    const inspected = runBin(['inspect', '--port', '0']);
    expect(inspected.status).toBe(1);
    expect(inspected.stderr).toContain(`No SQLite run store at ${join(project, '.fastroai', 'runs.db')}: the file does not exist`);
  });

  it('names the optional package a store needs when the application has not installed it (pg)', async () => {
    // Another application, outside the first (Node looks for pg in every node_modules upwards):
    // fastroai and its packages, but no pg.
    const application = mkdtempSync(join(tmpdir(), 'fastroai-no-pg-'));
    const modules = join(application, 'node_modules');
    mkdirSync(modules);
    cpSync(join(workDir, 'node_modules', 'fastroai'), join(modules, 'fastroai'), { recursive: true });
    linkInstalledPackages(modules, ['pg']);
    await linkBins(modules);
    let inspected: { status: number | null; stderr: string };
    try {
      inspected = spawnSync(join(modules, '.bin', 'fastroai'), ['inspect', '--store', 'postgres://postgres@127.0.0.1:5432/test', '--port', '0'], {
        cwd: application,
        encoding: 'utf8',
        timeout: 60_000,
      });
    } finally {
      rmSync(application, { recursive: true, force: true });
    }
    expect(inspected.status).toBe(1);
    expect(inspected.stderr.trim()).toBe(
      'fastroai: PostgresRunStore needs the optional package pg, which is not installed. Install it with: npm install pg@8',
    );
  }, 60_000);
});
