// `npm run build` (and before `npm start`): src/ → dist/, file by file, as plain JavaScript.
// Each module is transpiled on its own (no bundle), so dist/ mirrors src/ and every path a module
// computes from its own location (migrations, contract artifacts, the template cache) still holds.
// The server then runs on plain node: no TypeScript loader thread, ~100 MB less resident memory.
// Plain JavaScript itself, so it runs before anything is built.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

const files = fs.readdirSync(src, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
const sources = files.filter((f) => f.name.endsWith('.ts') && !f.name.endsWith('.d.ts')).map((f) => path.join(f.parentPath, f.name));
const assets = files.filter((f) => !f.name.endsWith('.ts')).map((f) => path.join(f.parentPath, f.name));

// Built aside, then swapped in: a server already running from dist/ (it imports some modules
// late) never sees a half-written tree, and nothing of a deleted source is left.
const next = `${dist}.new-${process.pid}`;
const old = `${dist}.old-${process.pid}`;
const started = performance.now();
await build({
  entryPoints: sources,
  outdir: next,
  outbase: src,
  bundle: false,
  platform: 'node',
  format: 'esm',
  // package.json's engines; below 20.10 esbuild drops the JSON imports' `with { type: 'json' }`.
  target: 'node20.19',
  // Stack traces name the TypeScript lines with NODE_OPTIONS=--enable-source-maps.
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const asset of assets) {
  const to = path.join(next, path.relative(src, asset));
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(asset, to);
}
if (fs.existsSync(dist)) fs.renameSync(dist, old);
fs.renameSync(next, dist);
fs.rmSync(old, { recursive: true, force: true });
if (!process.argv.includes('--quiet')) {
  console.log(`built ${sources.length} modules and ${assets.length} assets into dist/ in ${Math.round(performance.now() - started)} ms`);
}
