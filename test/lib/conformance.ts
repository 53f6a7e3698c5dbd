/**
 * The one conformance suite every database service passes (as restic's backends all pass one):
 * create data on a real server, back it up through the `batt` binary, restore the artifact with
 * the plugin's own restore into a new database or server, and compare what came back with what
 * was there: rows and checksums per table, keys, values and TTLs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Plugin } from '@batt/core/plugins/types';
import { json, sandbox, type Sandbox } from './batt.js';

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
  restoreConfig(): Record<string, unknown>;
  restoreTo(): Promise<string>;
  /** A comparable picture of the original and of the restored copy. */
  fingerprintOriginal(): Promise<string>;
  fingerprintRestored(): Promise<string>;
  /** Facts batt must have recorded for the target (row or key counts). */
  expectedFacts: Record<string, unknown>;
}

const silent = { info() {}, warn() {}, error() {}, scoped() { return silent; } };

/** Feeds the decompressed artifact to the plugin's restore. */
export async function restoreArtifact(plugin: Plugin, config: Record<string, unknown>, file: string, target: string, to: string, force = false): Promise<void> {
  const unzip = spawn('zstd', ['-dc', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stream = unzip.stdout.pipe(new PassThrough()); // taken at once: Node drops an exited child's unread output
  try {
    await plugin.restore!({ config, log: silent, signal: new AbortController().signal, runId: 0, home: '' }, target, stream, { to, force });
  } catch (error) {
    unzip.kill(); // a refused restore reads nothing: zstd would wait on its pipe for ever
    throw error;
  }
  if (unzip.exitCode === null) await once(unzip, 'close');
  assert.equal(unzip.exitCode, 0, 'zstd -dc of the artifact');
}

export function conformance(subject: ConformanceSubject): void {
  describe(`conformance: ${subject.service}`, () => {
    let box: Sandbox;
    let report: any;
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
      const item = report.items.find((i: any) => i.target === subject.target);
      assert.ok(item, `an item for ${subject.target}`);
      const shown = json(await box.batt(['show', String(report.id), '--json']));
      const facts = shown.items.find((i: any) => i.target === subject.target).facts;
      for (const [key, value] of Object.entries(subject.expectedFacts)) assert.deepEqual(facts[key], value, key);
      const { execa } = await import('execa');
      assert.equal((await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(box.out, 'c', subject.service) })).exitCode, 0);
    });

    it('restores into a new target with the same data', async () => {
      const item = report.items.find((i: any) => i.target === subject.target);
      await restoreArtifact(subject.plugin, subject.restoreConfig(), item.file, subject.target, await subject.restoreTo());
      assert.equal(await subject.fingerprintRestored(), await subject.fingerprintOriginal());
    });

    it('refuses to restore over existing data without force', async () => {
      const item = report.items.find((i: any) => i.target === subject.target);
      await assert.rejects(restoreArtifact(subject.plugin, subject.restoreConfig(), item.file, subject.target, await subject.restoreTo()), /already (exists|holds)/);
    });
  });
}
