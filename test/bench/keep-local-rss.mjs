#!/usr/bin/env node
// keep_local: false keeps memory flat: a dump of 3 GiB by default (random bytes from another
// process, as a real dump tool is, so none of its memory is counted) goes through the core
// pipeline (compression none, so every byte reaches the put) straight into S3Storage on s3rver,
// which runs in another process too. Prints the pipeline process's peak RSS; the target
// is at most 150 MB on a 3 GB stream, and the same at any size.
// Usage: pnpm -s build && node test/bench/keep-local-rss.mjs [MiB]
import { fork } from 'node:child_process';
import { resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');
const mib = Number(process.argv[2] ?? 3072);

if (process.env.KEEP_LOCAL_RSS_CHILD) {
  const { writeArtifact } = await import(resolve(repo, 'packages/core/dist/pipeline/artifact.js'));
  const { S3Storage } = await import(resolve(repo, 'packages/core/dist/storage/s3.js'));
  const { spawn } = await import('node:child_process');
  const { endpoint, bucket, credentials } = JSON.parse(process.env.KEEP_LOCAL_RSS_CHILD);
  const storage = new S3Storage({ bucket, endpoint, forcePathStyle: true, credentials });
  // The dump is another process, as a real one is: its memory is not batt's, and its bytes arrive
  // as a pipe delivers them (64 KiB reads), not as buffers this process makes.
  const dump = spawn('head', ['-c', `${mib}M`, '/dev/urandom'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stream = dump.stdout;
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const started = Date.now();
  const artifact = await writeArtifact({
    dump: { stream, done: Promise.resolve({}) },
    dir: '/nonexistent/keep-local-bench',
    base: 'big',
    ext: '.bin',
    compression: 'none',
    uniqueSuffix: 'run1',
    signal: new AbortController().signal,
    remote: { name: 'bench', storage, keyFor: (file) => `bench/${file.split('/').pop()}` },
  });
  clearInterval(timer);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ mib, bytes: artifact.bytes, seconds: (Date.now() - started) / 1000, peakRssMB: Math.round(Math.max(peak, maxRss) / 1e6) }));
  process.exit(0);
}

const { startS3 } = await import(resolve(repo, 'test/dist/lib/s3.js'));
const s3 = await startS3();
try {
  const child = fork(import.meta.filename, [String(mib)], {
    env: { ...process.env, KEEP_LOCAL_RSS_CHILD: JSON.stringify({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials }) },
  });
  const code = await new Promise((done) => child.on('exit', done));
  if (code !== 0) process.exitCode = 1;
} finally {
  await s3.stop();
}
