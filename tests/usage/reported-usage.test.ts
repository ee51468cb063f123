import { ChatResponse, attachReportedUsage, reportedUsageOf } from 'fastroai';

describe('attachReportedUsage / reportedUsageOf', () => {
  const usage = new ChatResponse({ output: '', content: '', costMicrocents: 12, inputTokens: 3 });

  it('attaches the usage of a failed call to its error and reads it back', () => {
    const error = new Error('invalid output');
    expect(attachReportedUsage(error, usage)).toBe(error);
    expect(reportedUsageOf(error)).toBe(usage);
  });

  it('keeps the attachment out of the enumerable properties and JSON', () => {
    const error = attachReportedUsage(new Error('x'), usage);
    expect(Object.keys(error)).toEqual([]);
    expect(JSON.stringify({ ...error })).toBe('{}');
  });

  it('reads undefined from an error without usage, and from non-objects', () => {
    expect(reportedUsageOf(new Error('plain'))).toBeUndefined();
    expect(reportedUsageOf('a string')).toBeUndefined();
    expect(reportedUsageOf(undefined)).toBeUndefined();
    expect(reportedUsageOf(null)).toBeUndefined();
  });

  it('lets a later attachment replace an earlier one', () => {
    const error = attachReportedUsage(new Error('x'), usage);
    const later = new ChatResponse({ output: '', content: '', costMicrocents: 99 });
    attachReportedUsage(error, later);
    expect(reportedUsageOf(error)).toBe(later);
  });
});
