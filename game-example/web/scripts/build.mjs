// Builds dist/: app.js (one minified ES module bundling src/, the
// playhouse-client SDK and the .proto schemas as text), index.html and
// style.css. The output is deterministic (no sourcemap, no timestamps, no
// absolute paths), because dist/ is committed and embedded by the Rust
// server (game-example/src/web.rs) and CI checks it is up to date.

import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
await mkdir(dist, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/main.js'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  loader: { '.proto': 'text' },
  // Node built-ins some SDK dependency may mention for its Node build.
  define: { 'process.env.NODE_ENV': '"production"' },
  write: false,
  logLevel: 'warning',
  metafile: true,
});

// Writes only what changed, so an unchanged build leaves the files (and
// their mtimes) alone and cargo does not rebuild the server for nothing.
async function writeIfChanged(path, text) {
  const old = await readFile(path, 'utf8').catch(() => null);
  if (old === text) return false;
  await writeFile(path, text);
  return true;
}

const [out] = result.outputFiles;
let js = out.text;
if (!js.endsWith('\n')) js += '\n';
const changed = [];
if (await writeIfChanged(join(dist, 'app.js'), js)) changed.push('app.js');
for (const f of ['index.html', 'style.css']) {
  if (await writeIfChanged(join(dist, f), await readFile(join(root, f), 'utf8'))) changed.push(f);
}

const inputs = Object.keys(result.metafile.inputs).length;
console.log(
  `dist/app.js ${(Buffer.byteLength(js) / 1024).toFixed(1)} KiB from ${inputs} inputs; ` +
    (changed.length ? `written: ${changed.join(', ')}` : 'dist/ unchanged'),
);
