// Bundles the compiled CLI (dist/*.js from tsc) into dist/bundle/ with esbuild. Loading ~450
// small modules cost batt ~0.4 s per start on our machines; the bundle loads a handful.
// Lazy `import()`s stay lazy (code splitting), so `batt list` never loads the catalog code.
// better-sqlite3 (native) and cosmiconfig (loads config loaders at run time) stay external.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;

// `import process from 'node:process'` (chalk, execa) makes Node build an ES module of the whole
// process object, reading every property: process.allowedNodeEnvironmentFlags alone parses all
// of Node's options, 7-16 ms of every start on Node 20. The global is the same object.
const processShim = {
  name: 'process-shim',
  setup(b) {
    b.onResolve({ filter: /^(node:)?process$/ }, () => ({ path: 'process', namespace: 'process-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'process-shim' }, () => ({
      contents: 'const p = globalThis.process; export default p; export const { env, versions, platform, hrtime, execPath, execArgv } = p;',
      loader: 'js',
    }));
  },
};
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
  // better-sqlite3's JavaScript is bundled too; its compiled addon is loaded by path (core/src/sqlite/sqlite.ts).
  external: ['typescript'],
  plugins: [processShim],
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __battCreateRequire } from 'node:module'; const require = __battCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The catalog's migrations travel with the bundle (found relative to the module).
cpSync(join(here, '..', 'core', 'drizzle'), join(outdir, 'drizzle'), { recursive: true });
