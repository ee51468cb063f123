import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SqliteRunStore } from 'fastroai/sqlite';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** One printed turn: its process, what the bot said, each step's row, the cost line. */
interface Turn {
  pid: number;
  bot: string;
  steps: Record<string, { state: string; costMicrocents?: number }>;
  turnCostMicrocents: number;
  runTotalMicrocents: number;
}

/** Reads the turns out of the sample's output (the lines a user sees). */
function parseTurns(stdout: string): Turn[] {
  const sections = stdout.split(/^(?=── )/m).filter((section) => section.startsWith('── Turn '));
  return sections.map((section) => {
    const lines = section.split('\n');
    const pid = Number(/· pid (\d+) ·/.exec(lines[0])![1]);
    const botStart = lines.findIndex((line) => line.startsWith('bot>  '));
    const botLines = [lines[botStart].slice(6)];
    for (let i = botStart + 1; lines[i].startsWith('      ') && !/^ {6}step /.test(lines[i]); i++) botLines.push(lines[i].trim());
    const steps: Turn['steps'] = {};
    for (const line of lines) {
      const match = /^ {6}(extract|classify|gather|book) +(.+?)(?: {2,}(\d+))?$/.exec(line);
      if (match) steps[match[1]] = { state: match[2], costMicrocents: match[3] === undefined ? undefined : Number(match[3]) };
    }
    const cost = /turn cost (\d+) microcents · run total (\d+)/.exec(section)!;
    return { pid, bot: botLines.join(' '), steps, turnCostMicrocents: Number(cost[1]), runTotalMicrocents: Number(cost[2]) };
  });
}

/**
 * samples/conversation-resume.ts as a user runs it: a real process that spawns one process per
 * user turn, each resuming the run from a real SQLite file (a temp one here).
 */
describe('samples/conversation-resume', () => {
  let dir: string;
  let dbPath: string;
  let stdout: string;
  let stderr: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fastroai-conversation-'));
    dbPath = join(dir, 'conversation.db');
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', FORCE_COLOR: '0' };
    delete env.OPENAI_API_KEY;
    ({ stdout, stderr } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join('samples', 'conversation-resume.ts'), dbPath],
      { cwd: root, env, timeout: 540_000 },
    ));
  }, 600_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every user turn in its own process', () => {
    expect(stderr).not.toMatch(/Error/);
    const turns = parseTurns(stdout);
    expect(turns).toHaveLength(3);
    expect(new Set([process.pid, ...turns.map((turn) => turn.pid)]).size).toBe(4);
  });

  it('runs extract and classify in turn 1 only, and restores them after', () => {
    const [first, ...later] = parseTurns(stdout);
    for (const stepId of ['extract', 'classify']) {
      expect(first.steps[stepId].state).toBe('ran');
      for (const turn of later) expect(turn.steps[stepId].state).toMatch(/^restored/);
    }
  });

  it('runs gather every turn: INCOMPLETE until the last, which books', () => {
    const turns = parseTurns(stdout);
    expect(turns.map((turn) => turn.steps.gather.state)).toEqual(['ran: INCOMPLETE', 'ran: INCOMPLETE', 'ran']);
    expect(turns.map((turn) => turn.steps.book.state)).toEqual(['not reached', 'not reached', 'ran']);
    expect(turns[0].bot).toContain('I still need the city, check-in date, check-out date and number of guests');
    expect(turns[1].bot).toContain('I still need the check-out date and number of guests');
    expect(turns[2].bot).toMatch(/^Booked: a hotel in Lisbon from 2026-12-10 to 2026-12-13 for 2 guests/);
  });

  it('pays for the expensive steps in turn 1 only: later turns cost 0', () => {
    const [first, ...later] = parseTurns(stdout);
    const paid = first.steps.extract.costMicrocents! + first.steps.classify.costMicrocents!;
    expect(first.steps.extract.costMicrocents).toBeGreaterThan(0);
    expect(first.steps.classify.costMicrocents).toBeGreaterThan(0);
    expect(first.turnCostMicrocents).toBe(paid);
    expect(first.runTotalMicrocents).toBe(paid);
    for (const turn of later) {
      expect(turn.steps.extract.costMicrocents).toBe(0);
      expect(turn.steps.classify.costMicrocents).toBe(0);
      expect(turn.turnCostMicrocents).toBe(0);
      // The run's usage still counts each recorded step once.
      expect(turn.runTotalMicrocents).toBe(paid);
    }
  });

  it('leaves the run completed in the SQLite file, each agent step recorded once', async () => {
    const runId = /^Run: +(\S+)$/m.exec(stdout)![1];
    const store = new SqliteRunStore({ path: dbPath });
    try {
      const stored = await store.getRun(runId);
      expect(stored?.run.status).toBe('completed');
      const generations = (stepId: string) => stored!.steps.filter((record) => record.stepId === stepId).map((record) => [record.generation, record.status]);
      expect(generations('extract')).toEqual([[1, 'completed']]);
      expect(generations('classify')).toEqual([[1, 'completed']]);
      expect(generations('gather')).toEqual([
        [1, 'incomplete'],
        [2, 'incomplete'],
        [3, 'completed'],
      ]);
      expect(generations('book')).toEqual([[1, 'completed']]);
    } finally {
      await store.close();
    }
  });

  it('prints no line wider than 80 columns', () => {
    const lines = stdout.split('\n');
    expect(lines.length).toBeGreaterThan(30);
    expect(lines.filter((line) => [...line].length > 80)).toEqual([]);
  });
});
