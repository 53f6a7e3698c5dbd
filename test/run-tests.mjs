#!/usr/bin/env node
// Runs every compiled test file (unit tests beside the code, end-to-end tests in test/) with
// node's own test runner. Node 20 takes no globs, so the files are listed here.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// Files run side by side: most of a file's time is spent waiting on the servers and tools it
// starts, so a few at once keep two cores busy. BATT_TEST_CONCURRENCY=1 runs them one by one.
const concurrency = Number(process.env.BATT_TEST_CONCURRENCY) || 3;
console.log(`running ${files.length} test files, ${concurrency} at a time`);
// Data folders the server harness initialises once for the whole run (test/lib/servers.ts).
const cache = mkdtempSync(join(tmpdir(), 'batt-test-cache-'));
chmodSync(cache, 0o711); // initdb runs as postgres inside it
let result;
try {
  result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files.map((f) => relative(process.cwd(), f))], {
    stdio: 'inherit',
    env: { ...process.env, BATT_TEST_CACHE: cache },
  });
} finally {
  rmSync(cache, { recursive: true, force: true });
}
process.exit(result.status ?? 1);
