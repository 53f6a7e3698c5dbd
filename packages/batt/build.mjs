// Bundles the compiled CLI (dist/*.js from tsc) into dist/bundle/ with esbuild. Loading ~450
// small modules cost batt ~0.4 s per start on our machines; the bundle loads a handful.
// Lazy `import()`s stay lazy (code splitting), so `batt list` never loads the catalog code.
// better-sqlite3 (native) and cosmiconfig (loads config loaders at run time) stay external.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const outdir = join(here, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(here, 'dist', 'main.js')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  external: ['better-sqlite3', 'typescript'],
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __battCreateRequire } from 'node:module'; const require = __battCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The catalog's migrations travel with the bundle (found relative to the module).
cpSync(join(here, '..', 'core', 'drizzle'), join(outdir, 'drizzle'), { recursive: true });
