import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliInProcess } from './support/run-cli-in-process';

const version = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('runCli (the fastroai command line)', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('prints the usage and the commands for %j, and exits 0', async (args) => {
    const cli = runCliInProcess(args);
    expect(await cli.status).toBe(0);
    expect(cli.out.join('\n')).toMatch(/^Usage: fastroai <command> \[options\]\n/);
    expect(cli.out.join('\n')).toMatch(/\n {2}inspect {9}Serve the run inspector/);
    expect(cli.err).toEqual([]);
  });

  it("prints fastroai's version", async () => {
    const cli = runCliInProcess(['--version']);
    expect(await cli.status).toBe(0);
    expect(cli.out).toEqual([version]);
  });

  it('refuses an unknown command with a hint to --help, and exits 2', async () => {
    const cli = runCliInProcess(['inspekt']);
    expect(await cli.status).toBe(2);
    expect(cli.err).toEqual(["fastroai: Unknown command 'inspekt'. The commands: inspect.", "Run 'fastroai --help' for help."]);
    expect(cli.out).toEqual([]);
  });

  it('keeps every line of its help within 80 columns', async () => {
    for (const args of [['--help'], ['inspect', '--help']]) {
      const cli = runCliInProcess(args);
      await cli.status;
      const lines = cli.out.join('\n').split('\n');
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.filter((line) => line.length > 80)).toEqual([]);
    }
  });
});
