#!/usr/bin/env node
// Kept tiny on purpose: `batt --version` answers before any module is loaded.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
// `batt runs | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  // Node 22.8+ keeps the compiled bundle between runs (batt doctor says where); older Nodes go on
  // without. In the user's own cache folder, not Node's default under /tmp, where another user
  // could make the folder first and hand root's batt compiled code of their own.
  const [module, { homedir }, { join }] = await Promise.all([import('node:module'), import('node:os'), import('node:path')]);
  const xdg = process.env.XDG_CACHE_HOME;
  try {
    module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || join(xdg?.startsWith('/') ? xdg : join(homedir(), '.cache'), 'batt', 'node-compile-cache'));
  } catch {
    // no cache: only slower
  }
  const { main } = await import('../dist/bundle/main.js');
  process.exitCode = await main(args, version);
}
