import { HandedOverStepRecord } from '../../src/store/handed-over-step-record';
import { StepRecordColumns } from '../../src/store/step-record-columns';
import { makeStepRecord } from './run-store-contract';

describe('StepRecordColumns', () => {
  it('gives back each record as written, in write order across generations, and tells a step id with a colon from a later generation', () => {
    const columns = new StepRecordColumns();
    const written = [
      makeStepRecord('a'),
      makeStepRecord('a', 2, { status: 'failed', output: undefined, error: { name: 'Error', code: 'E1', message: 'boom' }, workerId: 'w1' }),
      makeStepRecord('2:a'),
      makeStepRecord('b', 1, { startedAt: 1_764_300_000_123, endedAt: 1_764_300_000_456 }),
    ];
    expect(written.map((record) => columns.add(record))).toEqual([true, true, true, true]);
    expect(columns.records()).toEqual(written);
    expect(columns.records()[1]).not.toHaveProperty('output');
    expect(columns.records()[0]).not.toHaveProperty('error');
    expect(columns.rowOf('a', 2)).toBe(1);
    expect(columns.rowOf('2:a', 1)).toBe(2);
    expect(columns.rowOf('a', 3)).toBe(-1);
    expect(columns.recordAt(3)).toEqual(written[3]);
  });

  it('keeps the first record of a step and generation: a second one is refused and changes nothing', () => {
    const columns = new StepRecordColumns();
    expect(columns.add(makeStepRecord('a', 1, { output: '"first"' }))).toBe(true);
    expect(columns.add(makeStepRecord('a', 1, { output: '"second"' }))).toBe(false);
    expect(columns.size).toBe(1);
    expect(columns.records().map((record) => record.output)).toEqual(['"first"']);
  });

  it("keeps copies: changing a record's usage or error after writing it, or a record read, changes nothing kept", () => {
    const columns = new StepRecordColumns();
    const record = makeStepRecord('a', 1, { error: { name: 'Error', message: 'kept' } });
    columns.add(record);
    record.usage.inputTokens = 999;
    record.error!.message = 'changed';
    const read = columns.recordAt(0);
    read.usage.outputTokens = 999;
    expect(columns.recordAt(0)).toMatchObject({ usage: { inputTokens: 10, outputTokens: 5 }, error: { message: 'kept' } });
  });

  it("keeps the engine's handed-over usage as it is, and gives readers copies of it", () => {
    const columns = new StepRecordColumns();
    const usage = makeStepRecord('a').usage;
    columns.add(new HandedOverStepRecord('a', 1, 'completed', usage, 1, 10, 20));
    const read = columns.recordAt(0);
    expect(read.usage).toEqual(usage);
    expect(read.usage).not.toBe(usage);
    expect((columns as unknown as { usages: unknown[] }).usages[0]).toBe(usage);
  });
});
