#!/usr/bin/env node
// batt's speed against the plain tools, measured in the same run on the same machine:
//   1. `batt --file DIR` vs `tar -cf - DIR | zstd -3 -T0 | tee >(sha256sum) > out`
//      (DIR: >= 40k files, >= 500 MB)             target: batt <= 1.05x the shell's time
//   2. a 500 MiB file through batt's core pipeline vs bare `zstd -3 -T0`
//                                                   target: batt's speed >= 0.85x zstd's
//   3. `batt --version` vs `node -e 0`             target: <= 1.6x
// Usage: node test/bench/run.mjs [--workdir DIR] [--rounds N] [--skip-generate]
// Data is generated once under the work dir (default: .bench/ in the repo) and reused.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchData, writeBigFile } from './data.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ options: { workdir: { type: 'string' }, rounds: { type: 'string' } } });
const work = resolve(opts.workdir ?? join(repo, '.bench'));
const rounds = Number(opts.rounds ?? 3);
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
mkdirSync(work, { recursive: true });

// Deterministic data: a 96 MiB pool of text-like words (compresses ~3x, as dumps and configs
// do) with one block in five incompressible (as images and archives are). Each file is a slice
// at its own offset, so zstd's window sees no repeats.
const { rand, block } = benchData();
let pool;
const makePool = () => (pool ??= Buffer.concat(Array.from({ length: 96 }, () => block(1024 * 1024))));

const tree = join(work, 'tree');
if (!existsSync(join(tree, '.done'))) {
  console.error('generating the folder: 40,960 files, ~520 MB ...');
  rmSync(tree, { recursive: true, force: true });
  makePool();
  let n = 0;
  for (let d = 0; d < 160; d++) {
    const dir = join(tree, `d${d}`, `sub${d % 7}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 256; f++, n++) {
      const size = f % 64 === 0 ? 200_000 + (n % 7) * 10_000 : 1000 + ((n * 7919) % 16000);
      const offset = Math.floor(rand() * (pool.length - size));
      writeFileSync(join(dir, `f${f}.dat`), pool.subarray(offset, offset + size));
    }
  }
  writeFileSync(join(tree, '.done'), '');
}
const big = join(work, 'big.bin');
if (!existsSync(big)) {
  console.error('generating a 500 MiB file ...');
  makePool();
  writeBigFile(big, pool, rand);
}

const du = execFileSync('du', ['-sb', tree]).toString().split('\t')[0];
const files = execFileSync('sh', ['-c', `find "${tree}" -type f | wc -l`])
  .toString()
  .trim();
console.error(`folder: ${files} files, ${(Number(du) / 1e6).toFixed(0)} MB; big file: 500 MiB`);

function time(cmd, args, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = join(work, 'out');
const home = join(work, 'home');

// Warm the page cache for both sides alike.
time('tar', ['-cf', '/dev/null', '-C', work, 'tree']);

const shellTimes = [];
const battTimes = [];
for (let i = 0; i < rounds; i++) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  shellTimes.push(time('bash', ['-c', `tar -cf - -C / "${tree.slice(1)}" | zstd -3 -T0 -q | tee >(sha256sum > "${out}/sum") > "${out}/tree.tar.zst"; wait`]));
  rmSync(out, { recursive: true, force: true });
  battTimes.push(time(process.execPath, [batt, '--home', home, '--quiet', '--file', tree, '--path', out]));
}

// The stream through batt's pipeline (compress, SHA-256, write, fsync, rename), timed inside
// the process from the first byte to the placed artifact: batt's start-up is paid once per run
// and is measured by the folder and --version benchmarks. Two ways in: a plugin's Node stream
// (copied into zstd by Node), and a dump command (how tar, mysqldump and pg_dump run), which
// writes straight into zstd's stdin.
const pipeScript = join(work, 'pipe.mjs');
writeFileSync(
  pipeScript,
  `
import { createReadStream } from 'node:fs';
import { writeArtifact } from ${JSON.stringify(join(repo, 'packages', 'core', 'dist', 'pipeline', 'artifact.js'))};
const [file, dir, mode] = process.argv.slice(2);
const t = process.hrtime.bigint();
const dump = mode === 'command'
  ? { command: 'cat', args: [file], finish: () => ({}) }
  : { stream: createReadStream(file, { highWaterMark: 1024 * 1024 }), done: Promise.resolve({}) };
await writeArtifact({ dump, dir, base: 'big', ext: '.bin', compression: 'zstd', uniqueSuffix: String(Date.now()), signal: new AbortController().signal });
console.log(Number(process.hrtime.bigint() - t) / 1e9);
`,
);
const inProcess = (mode) => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  return Number(execFileSync(process.execPath, [pipeScript, big, out, mode]).toString().trim());
};
const zstdTimes = [];
const pipeTimes = [];
const commandTimes = [];
for (let i = 0; i < rounds; i++) {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  zstdTimes.push(time('sh', ['-c', `zstd -3 -T0 -q -c < "${big}" > "${out}/big.zst"`]));
  pipeTimes.push(inProcess('stream'));
  commandTimes.push(inProcess('command'));
}

const nodeTimes = [];
const versionTimes = [];
for (let i = 0; i < 15; i++) {
  nodeTimes.push(time(process.execPath, ['-e', '0']));
  versionTimes.push(time(process.execPath, [batt, '--version']));
}

rmSync(out, { recursive: true, force: true });
const result = {
  machine: { cores: (await import('node:os')).availableParallelism(), node: process.version },
  folder: { files: Number(files), bytes: Number(du), shell_s: median(shellTimes), batt_s: median(battTimes), ratio: median(battTimes) / median(shellTimes), target: '<= 1.05' },
  stream: {
    bytes: 500 * 1024 * 1024,
    zstd_s: median(zstdTimes),
    batt_node_stream_s: median(pipeTimes),
    speed_ratio: median(zstdTimes) / median(pipeTimes),
    batt_dump_command_s: median(commandTimes),
    command_speed_ratio: median(zstdTimes) / median(commandTimes),
    target: '>= 0.85',
  },
  version: { node_s: median(nodeTimes), batt_s: median(versionTimes), ratio: median(versionTimes) / median(nodeTimes), target: '<= 1.6' },
  rounds,
};
console.log(JSON.stringify(result, null, 2));
