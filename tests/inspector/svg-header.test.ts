import { svgHeader } from '../../src/inspector/svg-header';

describe('svgHeader', () => {
  it('opens an SVG of the given class and pixel size (viewBox too), as an image with an accessible name', () => {
    expect(svgHeader('gantt', 900, 120, 'Gantt chart of the run')).toBe(
      '<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="900" height="120" viewBox="0 0 900 120" role="img" aria-label="Gantt chart of the run">',
    );
  });

  it('escapes the class and the name', () => {
    const header = svgHeader('a"b', 1, 1, '<run "x">');
    expect(header).toContain('class="a&quot;b"');
    expect(header).toContain('aria-label="&lt;run &quot;x&quot;&gt;"');
    expect(header).not.toContain('<run');
  });
});
