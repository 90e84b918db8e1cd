// The module boundaries of the SDK: each part owns its state, and no module
// reads or writes another object's underscore fields. The type check
// enforces it (tsc --noEmit with checkJs rejects a read of a JSDoc @private
// member from outside its class, TS2341) as long as every such field is
// marked @private; these tests keep both halves true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const files = readdirSync(src).filter((f) => f.endsWith('.js'));

/** @param {string} file @returns {string} the code without its comments */
function code(file) {
  return readFileSync(src + file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

test('no module reads or writes another object’s underscore fields', () => {
  /** @type {string[]} */
  const found = [];
  for (const file of files) {
    for (const m of code(file).matchAll(/([\w$\])]+)\??\.(_[A-Za-z][\w$]*)/g)) {
      if (m[1] !== 'this') found.push(`${file}: ${m[0]}`);
    }
  }
  assert.deepEqual(found, []);
});

test('every underscore field is declared @private, so the type check guards it', () => {
  /** @type {string[]} */
  const unmarked = [];
  for (const file of files) {
    const text = readFileSync(src + file, 'utf8');
    /** @type {Set<string>} */
    const marked = new Set();
    for (const m of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*this\.(_[\w$]+)\s*=/g)) {
      if (/@private\b/.test(m[1])) marked.add(m[2]);
    }
    for (const m of text.matchAll(/this\.(_[\w$]+)\s*=(?!=)/g)) {
      if (!marked.has(m[1])) unmarked.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual([...new Set(unmarked)], []);
});
