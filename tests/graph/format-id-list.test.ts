import { MAX_LISTED_IDS, formatIdList } from '../../src/graph/format-id-list';
import { Pipeline, PipelineValidationError, step } from 'fastroai';

describe('formatIdList', () => {
  it('lists ids as the Python original does', () => {
    expect(formatIdList(['a', 'b'])).toBe("['a', 'b']");
    expect(formatIdList([])).toBe('[]');
  });

  it(`names ${MAX_LISTED_IDS} ids at most and counts the rest`, () => {
    const ids = Array.from({ length: MAX_LISTED_IDS }, (_, i) => `s${i}`);
    expect(formatIdList(ids)).toBe(`[${ids.map((id) => `'${id}'`).join(', ')}]`);
    expect(formatIdList([...ids, 'x', 'y'])).toBe(`[${ids.map((id) => `'${id}'`).join(', ')}, … 2 more]`);
  });

  it('keeps the error of a 1,000-wide fan-out without an output step short', () => {
    const steps = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`s${i}`, step(() => i)]));
    let error: unknown;
    try {
      new Pipeline({ name: 'wide', steps });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain("'s0', 's1'");
    expect((error as Error).message).toContain('… 950 more');
    expect((error as Error).message.length).toBeLessThan(800);
  });
});
