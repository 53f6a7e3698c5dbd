/**
 * The one conformance suite every database service passes (as restic's backends all pass one):
 * create data on a real server, back it up through the `batt` binary, verify it with a restore
 * drill, restore it with `batt restore` into a new database or server, and compare what came back with what
 * was there: rows and checksums per table, keys, values and TTLs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArtifact } from '@batt/core/restore/artifact';
import { after, before, describe, it } from 'node:test';
import { pluginContext, type Plugin } from '@batt/core/plugins/types';
import { appendFileSync } from 'node:fs';
import { json, logLines, sandbox, type Sandbox } from './batt.js';
import { startWebdav } from './rclone.js';
import { startS3 } from './s3.js';

export interface ConformanceSubject {
  service: string;
  plugin: Plugin;
  /** Starts the server and fills it; returns what the tests need. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** Environment that points batt at the server. */
  env(): Record<string, string>;
  /** batt arguments that back up the seeded data. */
  backupArgs: string[];
  /** The target whose artifact is restored, and the plugin config and `to` for restoring it. */
  target: string;
  /** Environment for restoring, when it differs from `env()` (another server's password). */
  restoreEnv?(): Record<string, string>;
  /** The `--into` of the restore: a database name, or host:port. */
  restoreTo(): Promise<string>;
  /** A comparable picture of the original and of the restored copy. */
  fingerprintOriginal(): Promise<string>;
  fingerprintRestored(): Promise<string>;
  /** Facts batt must have recorded for the target (row or key counts). */
  expectedFacts: Record<string, unknown>;
}

const silent = {
  info() {},
  warn() {},
  error() {},
  scoped() {
    return silent;
  },
};

/** Restores an artifact file with the plugin's own restore (below the CLI), returning its checks. */
export async function restoreArtifact(
  plugin: Plugin,
  config: Record<string, unknown>,
  file: string,
  target: string,
  into: string,
  force = false,
  facts: Record<string, unknown> = {},
  signal = new AbortController().signal,
) {
  const home = mkdtempSync(join(tmpdir(), 'batt-restore-home-'));
  try {
    const ctx = pluginContext({ config: { services: { [plugin.name]: config } }, log: silent, signal, home: { root: home } }, plugin.name, 0);
    return await plugin.restore!(ctx, target, { open: () => openArtifact(file, 'zstd'), facts, itemId: 0 }, { into, force, replace: false, jobs: 1 });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export function conformance(subject: ConformanceSubject): void {
  describe(`conformance: ${subject.service}`, () => {
    let box: Sandbox;
    let report: any;
    const restoreEnv = (): Record<string, string> => (subject.restoreEnv ?? subject.env)();
    const item = (): any => report.items.find((i: any) => i.target === subject.target);
    before(async () => {
      box = sandbox();
      await subject.setUp();
    });
    after(async () => {
      await subject.tearDown();
      box?.cleanup();
    });

    it('backs up through batt: ok, checksummed, facts recorded', async () => {
      const r = await box.batt([...subject.backupArgs, '--path', join(box.out, 'c'), '--json'], { env: subject.env() });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      report = json(r);
      assert.ok(item(), `an item for ${subject.target}`);
      const shown = json(await box.batt(['show', String(report.id), '--json']));
      const facts = shown.items.find((i: any) => i.target === subject.target).facts;
      for (const [key, value] of Object.entries(subject.expectedFacts)) assert.deepEqual(facts[key], value, key);
      const { execa } = await import('execa');
      assert.equal((await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(box.out, 'c', subject.service) })).exitCode, 0);
      // Owner only: the artifact, manifest and SHA256SUMS 0600, their folder 0700.
      const folder = join(box.out, 'c', subject.service);
      assert.equal(statSync(folder).mode & 0o777, 0o700);
      for (const name of readdirSync(folder)) assert.equal(statSync(join(folder, name)).mode & 0o777, 0o600, name);
    });

    it('verifies, and passes a restore drill recorded in the catalog', async () => {
      const logged = logLines(box).length;
      const r = await box.batt(['verify', String(report.id), '--service', subject.service, '--target', subject.target, '--restore-test', '--json'], { env: subject.env() });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      // The log hears the verify run's events: the verdict, the drill as it starts, its verdict.
      const item = `[${subject.service}] ${subject.target}`;
      assert.deepEqual(logLines(box).slice(logged), [`info ${item}: verify ok`, `info ${item}: restore drill`, `info ${item}: restore drill ok`]);
      const outcomes = json(r);
      assert.deepEqual(
        outcomes.map((o: any) => [o.kind, o.ok]),
        [
          ['verify', true],
          ['restore-test', true],
        ],
      );
      const shown = json(await box.batt(['show', String(report.id), '--json']));
      const kinds = shown.items.find((i: any) => i.target === subject.target).checks.map((c: any) => `${c.kind}:${c.status}`);
      assert.deepEqual(kinds.sort(), ['restore-test:ok', 'verify:ok']);
      const runs = json(await box.batt(['runs', '--json']));
      assert.equal(runs.find((x: any) => x.id === report.id).checked, 'ok');
    });

    it('restores with `batt restore` into a new target with the same data', async () => {
      const into = await subject.restoreTo();
      const r = await box.batt(['restore', String(report.id), subject.service, '--target', subject.target, '--into', into], { env: restoreEnv() });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /restore plan/);
      assert.match(r.stdout, /verified/);
      assert.equal(await subject.fingerprintRestored(), await subject.fingerprintOriginal());
      const shown = json(await box.batt(['show', String(report.id), '--json']));
      const restore = shown.items.find((i: any) => i.target === subject.target).checks.find((c: any) => c.kind === 'restore');
      assert.equal(restore.status, 'ok');
      assert.equal(restore.target.includes(into.split(':').pop()!), true);
    });

    it('refuses to restore over existing data without --force, and changes nothing', async () => {
      const into = await subject.restoreTo();
      const before = await subject.fingerprintRestored();
      const r = await box.batt(['restore', String(report.id), subject.service, '--target', subject.target, '--into', into], { env: restoreEnv() });
      assert.equal(r.exitCode, 2, r.stderr + r.stdout);
      assert.match(r.stderr, /already (exist|holds)|needs --force/);
      assert.match(r.stderr, /--force/);
      // The hint names only flags this service takes: redis has no --replace.
      if (subject.service === 'redis') assert.doesNotMatch(r.stderr, /--replace/);
      else assert.match(r.stderr, /--replace/);
      assert.equal(await subject.fingerprintRestored(), before);
      // Refused, not failed: nothing is recorded against the backup.
      const shown = json(await box.batt(['show', String(report.id), '--json']));
      assert.deepEqual(
        shown.items.flatMap((i: any) => i.checks).filter((c: any) => c.kind === 'restore' && c.status !== 'ok'),
        [],
      );
    });

    it('refuses a corrupted artifact before touching anything; verify fails it', async () => {
      const file = item().file;
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      writeFileSync(file, bytes);
      const into = await subject.restoreTo();
      const before = await subject.fingerprintRestored();
      const r = await box.batt(['restore', String(report.id), subject.service, '--target', subject.target, '--into', into, '--force'], { env: restoreEnv() });
      assert.equal(r.exitCode, 1, r.stderr + r.stdout);
      assert.match(r.stderr, /does not match its SHA-256/);
      assert.equal(await subject.fingerprintRestored(), before);
      const v = await box.batt(['verify', String(report.id), '--service', subject.service], { env: subject.env() });
      assert.equal(v.exitCode, 1, v.stderr + v.stdout);
      assert.match(v.stdout + v.stderr, /does not match its SHA-256/);
    });

    it('is copied to S3 and to an rclone remote; with the local file gone, restores from each and compares', async () => {
      const s3 = await startS3();
      const dav = await startWebdav();
      const other = sandbox({ env: dav.env });
      try {
        const secret = join(other.dir, 's3.secret');
        writeFileSync(secret, s3.credentials.secretAccessKey, { mode: 0o600 });
        appendFileSync(
          join(other.home, 'conf', 'batt.config.yaml'),
          [
            'storage:',
            `  - { name: offsite, type: s3, bucket: ${s3.bucket}, endpoint: ${JSON.stringify(s3.endpoint)}, force_path_style: true, access_key_id: ${s3.credentials.accessKeyId}, secret_access_key_file: ${JSON.stringify(secret)} }`,
            `  - { name: dav, type: rclone, remote: "${dav.remote}b", rclone_config: ${JSON.stringify(dav.configFile)} }`,
            '',
          ].join('\n'),
        );
        const run = json(await other.batt([...subject.backupArgs, '--json'], { env: subject.env() }));
        assert.equal(run.status, 'ok', JSON.stringify(run));
        const copied = json(await other.batt(['show', String(run.id), '--json'])).items.find((i: any) => i.target === subject.target);
        assert.deepEqual(
          copied.copies.map((c: any) => [c.storage, c.sha256]),
          [
            ['offsite', copied.sha256],
            ['dav', copied.sha256],
          ],
        );
        const restoreFrom = async (): Promise<void> => {
          rmSync(copied.file);
          const into = await subject.restoreTo();
          const r = await other.batt(['restore', String(run.id), subject.service, '--target', subject.target, '--into', into, '--force'], { env: restoreEnv() });
          assert.equal(r.exitCode, 0, r.stderr + r.stdout);
          assert.equal(await subject.fingerprintRestored(), await subject.fingerprintOriginal());
        };
        await restoreFrom(); // from the bucket, the first copy
        const bucket = s3.storage();
        assert.equal(await bucket.delete(copied.copies[0].key), true);
        await restoreFrom(); // the bucket's copy is gone: from the rclone remote
      } finally {
        other.cleanup();
        await s3.stop();
        await dav.remove();
      }
    });
  });
}
