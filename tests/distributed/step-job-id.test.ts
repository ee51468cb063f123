import { stepJobId } from 'fastroai/distributed';
import { parseStepJobId } from '../../src/distributed/step-job-id';

describe('stepJobId', () => {
  it('is runId-stepId-generation for plain ids', () => {
    expect(stepJobId('run-1b4e', 'classify', 1)).toBe('run-1b4e-classify-1');
  });

  it('never contains ":" and is never all digits (BullMQ refuses such ids)', () => {
    expect(stepJobId('a:b', 'c:d', 2)).toBe('a%3Ab-c%3Ad-2');
    expect(stepJobId('123', '45', 6)).not.toMatch(/^\d+$/);
  });

  it('is one-to-one: ids that would join to the same text differ', () => {
    expect(stepJobId('a-b', 'c', 1)).not.toBe(stepJobId('a', 'b-c', 1));
    expect(stepJobId('a', 'b%2Dc', 1)).not.toBe(stepJobId('a', 'b-c', 1));
  });

  it('is read back by parseStepJobId, whatever the ids hold', () => {
    for (const [runId, stepId, generation] of [
      ['run-1b4e-77', 'classify', 1],
      ['a:b%c', 'fetch:user-a%2D', 3],
      ['ünï-çødé', 'ste-p', 12],
    ] as const) {
      expect(parseStepJobId(stepJobId(runId, stepId, generation))).toEqual({ runId, stepId, generation });
    }
  });

  it('is not read from ids it did not make', () => {
    for (const id of ['', 'plain', 'a-b', 'a-b-0', 'a-b-x', '-b-1', 'a%zz-b-1']) expect(parseStepJobId(id)).toBeUndefined();
  });
});
