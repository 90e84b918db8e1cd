// Writes the TypeScript declarations of the package (types/, the `types` of
// package.json) from the JSDoc in src/: tsc with tsconfig.types.json, then
// one fix-up. tsc 7 emits a member the JSDoc marks @private as a bare
// `_name;` (no type, no modifier); a --strict consumer that checks library
// declarations rejects that (TS7008, implicit any). In TypeScript terms it
// is `private _name;`, which is what it becomes here.
//
//   npm run types                      (in framework/js; commit types/)
//   node scripts/types.mjs --outDir D  (elsewhere: test/types.test.js compares)

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outDir');
const out = at > 0 ? resolve(process.argv[at + 1]) : join(pkg, 'types');

rmSync(out, { recursive: true, force: true }); // no declarations of deleted modules
const tsc = join(pkg, 'node_modules/typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.types.json', '--outDir', out], { cwd: pkg, stdio: 'inherit' });

const BARE = /^(\s+)(_[\w$]+);$/gm;
for (const file of readdirSync(out)) {
  const path = join(out, file);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(BARE, '$1private $2;');
  const untyped = /^\s+(?!private )[\w$]+;$/m.exec(fixed);
  if (untyped) throw new Error(`${file}: a member without a type that is not @private: ${untyped[0].trim()}`);
  if (fixed !== text) writeFileSync(path, fixed);
}
console.log(`declarations written to ${out}`);
