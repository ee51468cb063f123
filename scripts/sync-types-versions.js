#!/usr/bin/env node
/**
 * Derives package.json `typesVersions` from `exports`, so every sub-path's types also resolve
 * under `"moduleResolution": "node"` (node10), which ignores `exports`.
 *
 *   node scripts/sync-types-versions.js          exits 1 when typesVersions is out of date
 *   node scripts/sync-types-versions.js --write  rewrites it
 *
 * An export `"./X": { "types": "./dist/src/X/index.d.ts", ... }` maps to
 * `typesVersions: { "*": { "X": ["dist/src/X/index.d.ts"] } }`.
 */
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/** The `typesVersions` that `exports` implies: one entry per sub-path with a `types` condition. */
function typesVersionsOf(exportsField) {
  const paths = {};
  for (const [key, target] of Object.entries(exportsField)) {
    if (key === '.' || typeof target !== 'object' || target === null || typeof target.types !== 'string') continue;
    paths[key.replace(/^\.\//, '')] = [target.types.replace(/^\.\//, '')];
  }
  return { '*': paths };
}

module.exports = { typesVersionsOf };

if (require.main === module) {
  const file = join(__dirname, '..', 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  const expected = typesVersionsOf(pkg.exports);
  if (JSON.stringify(pkg.typesVersions) === JSON.stringify(expected)) process.exit(0);
  if (process.argv.includes('--write')) {
    pkg.typesVersions = expected;
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
    console.log('package.json: typesVersions updated from exports');
  } else {
    console.error(`package.json: typesVersions does not match exports; run npm run sync-types-versions\nexpected: ${JSON.stringify(expected)}`);
    process.exit(1);
  }
}
