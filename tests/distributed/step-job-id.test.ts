import { stepJobId } from 'fastroai/distributed';

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
});
