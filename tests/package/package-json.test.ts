import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** package.json's `exports` and `typesVersions`, checked without building (the consumer test builds). */

const repoRoot = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
};
// The script that writes typesVersions (`npm run sync-types-versions`) is plain JavaScript.
const { typesVersionsOf } = require('../../scripts/sync-types-versions.js') as {
  typesVersionsOf(exportsField: unknown): Record<string, Record<string, string[]>>;
};

const subpaths = Object.entries(pkg.exports).filter(
  (entry): entry is [string, { types: string; default: string }] => entry[0] !== '.' && typeof entry[1] === 'object',
);

describe('package.json', () => {
  it('maps every exports sub-path in typesVersions, for moduleResolution node (run npm run sync-types-versions)', () => {
    expect(subpaths.length).toBeGreaterThan(0);
    expect(pkg.typesVersions).toEqual(typesVersionsOf(pkg.exports));
    for (const [key, target] of subpaths) {
      expect(pkg.typesVersions['*'][key.slice(2)]).toEqual([target.types.slice(2)]);
    }
  });

  it('points every sub-path at the build of a source folder that exists', () => {
    for (const [key, target] of subpaths) {
      const name = key.slice(2);
      expect(target).toEqual({ types: `./dist/src/${name}/index.d.ts`, default: `./dist/src/${name}/index.js` });
      expect(existsSync(join(repoRoot, 'src', name, 'index.ts'))).toBe(true);
    }
  });
});
