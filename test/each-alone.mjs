#!/usr/bin/env node
// Runs every test of the suite alone: its file's hooks and that one test, nothing else. A test
// that passes in the suite but fails here leans on what another test left behind. Slow (every
// file's servers start once per test): run it after changing how tests share a fixture, not in CI.
//   node test/each-alone.mjs [file-filter ...]     (after `pnpm run build`)
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const found = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === 'node_modules') continue;
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.test.js') && path.includes('/dist/')) found.push(path);
  }
};
walk(join(root, 'packages'));
walk(join(root, 'test', 'dist'));
const filter = process.argv.slice(2);
const files = filter.length ? found.filter((f) => filter.some((w) => f.includes(w))) : found;
const cache = mkdtempSync(join(tmpdir(), 'batt-test-cache-'));
chmodSync(cache, 0o711);
const env = { ...process.env, BATT_TEST_CACHE: cache };

try {
  // The tests, as the whole suite names them.
  const listed = spawnSync(process.execPath, ['--test', `--test-reporter=${join(root, 'test', 'tools', 'names-reporter.mjs')}`, '--test-concurrency=2', ...files], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const tests = listed.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const failedInSuite = tests.filter((t) => !t.passed);
  if (failedInSuite.length) console.log(`${failedInSuite.length} tests fail in the suite itself; they are run alone too`);
  console.log(`running ${tests.length} tests one by one, two at a time`);

  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alone = (test) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--test', '--test-reporter=tap', `--test-name-pattern=^${escape(test.name)}$`, test.file], { env });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      child.on('close', (code) => {
        const passed = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
        const failed = Number(/^# fail (\d+)/m.exec(out)?.[1] ?? 0);
        resolve(code === 0 && failed === 0 && passed >= 1 ? undefined : { test, out });
      });
    });
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < tests.length) {
      const failure = await alone(tests[next++]);
      if (failure) {
        failures.push(failure);
        console.log(`✖ fails alone: ${failure.test.file.slice(root.length + 1)} › ${failure.test.name}`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  for (const { test, out } of failures)
    console.log(
      `\n── ${test.name}\n${out
        .split('\n')
        .filter((l) => !/# SKIP/.test(l))
        .slice(-40)
        .join('\n')}`,
    );
  console.log(`${tests.length} tests run alone: ${tests.length - failures.length} pass, ${failures.length} fail`);
  process.exitCode = failures.length ? 1 : 0;
} finally {
  rmSync(cache, { recursive: true, force: true });
}
