#!/usr/bin/env node
// batt's speed against the plain tools, measured in the same run on the same machine (issue 19's
// targets):
//   1. `batt --file DIR` vs `tar -cf - DIR | zstd -3 -T0 | tee >(sha256sum) > out`
//      (DIR: 40,960 files, ~450 MB)                 target: batt <= 1.00x the shell's time
//   2. a 500 MiB dump through batt's core pipeline (compressed, hashed, placed) vs bare
//      `zstd -3 -T0`, from a dump command (as mysqldump and pg_dump run) and from a plugin's
//      Node stream                                  target: batt's speed >= 0.95x zstd's
//   3. `batt --version` vs `node -e 0`             target: <= 1.3x
// Usage: node test/bench/run.mjs [--workdir DIR] [--rounds N] [--quick] [--result FILE]
//   --quick: 4,096 files (~45 MB) and a 100 MiB file (under .bench/quick), 9 --version rounds (not 15)
//   --result FILE: also append the figures to FILE as JSON lines (test/bench/all.mjs reads them)
// Data is generated once under the work dir (default: .bench/ in the repo) and reused
// (test/bench/data.mjs). Exits 0 whether or not the targets are met.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchSet } from './data.mjs';
import { cliArgs, median, resultOptions, row, timeRow, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { workdir: { type: 'string' }, rounds: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const work = resolve(opts.workdir ?? join(repo, '.bench'));
const rounds = Number(opts.rounds ?? 3);
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
mkdirSync(work, { recursive: true });

// Deterministic data (test/bench/data.mjs): text-like words (compress ~3x, as dumps and configs
// do) with one block in five incompressible (as images and archives are). Each file is a slice
// of a pool at its own offset, so zstd's window sees no repeats.
const set = benchSet(work, { quick });
const tree = set.tree();
const big = set.big();
const bigBytes = set.bigMiB * 1024 * 1024;

const du = execFileSync('du', ['-sb', tree]).toString().split('\t')[0];
const files = execFileSync('sh', ['-c', `find "${tree}" -type f | wc -l`])
  .toString()
  .trim();
console.error(`folder: ${files} files, ${(Number(du) / 1e6).toFixed(0)} MB; big file: ${set.bigMiB} MiB`);

function time(cmd, args, env = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
const out = join(work, 'out');
const home = join(work, 'home');

// Warm the page cache for both sides alike (through a pipe: tar writing to /dev/null itself
// skips reading the files).
time('sh', ['-c', `tar -cf - -C / "${tree.slice(1)}" > /dev/null`]);

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
for (let i = 0; i < (quick ? 9 : 15); i++) {
  nodeTimes.push(time(process.execPath, ['-e', '0']));
  versionTimes.push(time(process.execPath, [batt, '--version']));
}

rmSync(out, { recursive: true, force: true });
const result = {
  machine: { cores: (await import('node:os')).availableParallelism(), node: process.version },
  quick,
  folder: { files: Number(files), bytes: Number(du), shell_s: median(shellTimes), batt_s: median(battTimes), ratio: median(battTimes) / median(shellTimes), target: '<= 1.00' },
  stream: {
    bytes: bigBytes,
    zstd_s: median(zstdTimes),
    batt_node_stream_s: median(pipeTimes),
    speed_ratio: median(zstdTimes) / median(pipeTimes),
    batt_dump_command_s: median(commandTimes),
    command_speed_ratio: median(zstdTimes) / median(commandTimes),
    target: '>= 0.95',
  },
  version: { node_s: median(nodeTimes), batt_s: median(versionTimes), ratio: median(versionTimes) / median(nodeTimes), target: '<= 1.3' },
  rounds,
};
console.log(JSON.stringify(result, null, 2));

const { folder, stream, version } = result;
const mbps = (s) => `${(stream.bytes / 1e6 / s).toFixed(0)} MB/s`;
const streamRow = (how, s, ratio) =>
  row('stream', `${set.bigMiB} MiB dump (${how}) compressed, hashed, placed vs bare zstd -3 -T0`, {
    figure: stream.bytes / 1e6 / s,
    unit: 'MB/s',
    reference: mbps(stream.zstd_s),
    ratio,
    target: '>= 0.95',
    ok: ratio >= 0.95,
  });
writeResults(opts.result, [
  timeRow('files', `batt --file: ${folder.files.toLocaleString('en')} files, ${(folder.bytes / 1e6).toFixed(0)} MB vs tar | zstd -3 -T0 | tee >(sha256sum)`, {
    seconds: folder.batt_s,
    reference: folder.shell_s,
    ratio: folder.ratio,
    max: 1,
  }),
  streamRow('a dump command', stream.batt_dump_command_s, stream.command_speed_ratio),
  streamRow("a plugin's Node stream", stream.batt_node_stream_s, stream.speed_ratio),
  row('start-up', 'batt --version vs node -e 0', {
    figure: version.batt_s,
    unit: 's',
    reference: `${version.node_s.toFixed(3)} s`,
    ratio: version.ratio,
    target: '<= 1.3',
    ok: version.ratio <= 1.3,
  }),
]);
