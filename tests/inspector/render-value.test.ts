import { ConversationState, ConversationStatus } from 'fastroai';
import { MAX_VALUE_CHARACTERS, renderValue } from '../../src/inspector/render-value';

describe('renderValue', () => {
  it('renders strings as escaped text, never as markup', () => {
    const html = renderValue({ '<b>key</b>': '<img src=x onerror=alert(1)>' });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('<span class="json-key">&lt;b&gt;key&lt;/b&gt;</span>: <span class="json-string">&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</span>');
  });

  it('names the types the codec restores and nests objects as collapsible details', () => {
    const html = renderValue({
      when: new Date(Date.UTC(2026, 0, 1)),
      ids: new Set([1n]),
      byName: new Map([['a', [true, null, undefined]]]),
      state: new ConversationState({ status: ConversationStatus.INCOMPLETE }),
    });
    expect(html).toMatch(/^<div class="json"><details open><summary>\{4 keys\}<\/summary>/);
    expect(html).toContain('<span class="json-date">2026-01-01T00:00:00.000Z</span>');
    expect(html).toContain('<details><summary>Set(1)</summary><ul><li><span class="json-number">1n</span></li></ul></details>');
    expect(html).toContain('<summary>Map(1)</summary>');
    expect(html).toContain('<span class="json-null">undefined</span>');
    expect(html).toContain('<summary>ConversationState {');
  });

  it('cuts a huge value short and says so', () => {
    const html = renderValue(Array.from({ length: 1000 }, (_, index) => index));
    expect(html).toContain('<li class="json-more">… 800 more</li>');
    const deep = renderValue(Array.from({ length: 100 }, () => Array.from({ length: 100 }, () => 1)));
    expect(deep.match(/json-number/g)!.length).toBeLessThan(2_000);
    expect(deep).toContain('json-more');
  });

  it('renders at most MAX_VALUE_CHARACTERS of a value made of many long strings, and notes what it cut', () => {
    // 200 strings of 10,000 characters: 2 MB of text, under the node and per-string limits.
    const html = renderValue(Array.from({ length: 200 }, (_, index) => `${index}`.padEnd(10_000, 'x')));
    expect(html.length).toBeLessThan(MAX_VALUE_CHARACTERS + 50_000);
    expect(html).toContain('&quot;9'.padEnd(10_000 + '&quot;'.length, 'x')); // the first strings whole
    expect(html).toContain('… (10000 characters)&quot;</span>');
    const keys = renderValue(Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`${index}`.padEnd(10_000, 'k'), 1])));
    expect(keys.length).toBeLessThan(MAX_VALUE_CHARACTERS + 50_000);
  });
});
