import { pathSegments } from '../../src/inspector/path-segments';

describe('pathSegments', () => {
  it('decodes each segment of a path', () => {
    expect(pathSegments('/')).toEqual([]);
    expect(pathSegments('/runs/doc-1/events')).toEqual(['runs', 'doc-1', 'events']);
    expect(pathSegments('/runs/a%3Ab')).toEqual(['runs', 'a:b']);
    // An encoded slash or backslash is part of its segment (a run id), not a separator.
    expect(pathSegments('/runs/tenant%2F42/steps')).toEqual(['runs', 'tenant/42', 'steps']);
    expect(pathSegments('/runs/a%5Cb')).toEqual(['runs', 'a\\b']);
  });

  it('refuses dot segments, encoded or not, NUL and bad escapes', () => {
    for (const path of ['/runs/..', '/./runs', '/runs/%2e%2e', '/runs/%2E', '/a%00b', '/a%zz']) expect([path, pathSegments(path)]).toEqual([path, undefined]);
  });
});
