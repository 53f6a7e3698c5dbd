#!/usr/bin/env node
// Runs every compiled test file (unit tests beside the code, end-to-end tests in test/) with
// node's own test runner. Node 20 takes no globs, so the files are listed here.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const found = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.test.js') && path.includes(`${join('/', 'dist', '/')}`)) found.push(path);
  }
};
walk(join(root, 'packages'));
walk(join(root, 'test', 'dist'));
const filter = process.argv.slice(2);
const files = filter.length ? found.filter((f) => filter.some((w) => f.includes(w))) : found;
console.log(`running ${files.length} test files`);
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files.map((f) => relative(process.cwd(), f))], { stdio: 'inherit' });
process.exit(result.status ?? 1);
