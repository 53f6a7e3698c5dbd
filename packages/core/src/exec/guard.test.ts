import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { collectSecrets } from '../config/secrets.js';
import type { BattConfig } from '../config/load.js';
import { BattError } from '../errors/errors.js';
import { createLogger } from '../log/logger.js';
import { pluginContext } from '../plugins/types.js';
import { guardSecrets, leaksSecret, minGuardedLength } from './guard.js';
import { runTool, spawnTool } from './exec.js';

describe('the secret-leak guard matcher', () => {
  const secrets = ['Sup3r s3cret', 'p@ss/word:42', 'short'];

  it('finds a secret as a whole argument, inside one, across two as the line is shown, or percent-encoded', () => {
    assert.ok(leaksSecret(['-a', 'Sup3r s3cret'], secrets));
    assert.ok(leaksSecret(['--password=Sup3r s3cret'], secrets));
    assert.ok(leaksSecret(['-pSup3r s3cret', 'shop'], secrets));
    assert.ok(leaksSecret(['mysql://u:p@ss/word:42@db:3306/shop'], secrets));
    assert.ok(leaksSecret(['mongodb://u:p%40ss%2Fword%3A42@h/'], secrets), 'as a URI carries it');
    assert.ok(leaksSecret(['--auth', 'Sup3r', 's3cret'], secrets), 'split where the line shows a space');
  });

  it(`ignores secrets shorter than ${minGuardedLength} characters, and argv that holds none`, () => {
    assert.equal(minGuardedLength, 8);
    assert.ok(!leaksSecret(['--user', 'short', '/opt/backup/short'], secrets));
    assert.ok(!leaksSecret(['anything'], ['', 'a', 'x'.repeat(minGuardedLength - 1)]));
    assert.ok(!leaksSecret(['--defaults-file=/opt/batt/tmp/my.cnf', '--single-transaction', 'shop'], secrets));
    assert.ok(!leaksSecret([], secrets));
  });
});

describe('the guard in the exec helper: a plugin bug that puts a secret in argv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batt-guard-'));
  const marker = join(dir, 'started');
  const passwordFile = join(dir, 'mysql.pw');
  writeFileSync(passwordFile, 'from-a-password-file\n');
  chmodSync(passwordFile, 0o600);
  const config: BattConfig = {
    services: {
      redis: { password: 'redis-config-pw' },
      mysql: { password_file: passwordFile },
      mongodb: { uri: 'mongodb://backup:mongo-uri-pw@127.0.0.1/admin' },
    },
    files: [],
  };
  // The set the log and the catalog mask, as the CLI gathers it (commands/common.ts).
  const secrets = collectSecrets(config, { BATT_POSTGRESQL_PASSWORD: 'pg-env-password', PATH: process.env.PATH });
  const log = createLogger({ console: 'none', secrets });
  const ctx = pluginContext({ config, log, signal: new AbortController().signal, home: { root: dir } }, 'redis', 1);
  // sh would create the marker; the secret rides along as an argument ($0 takes 'sh').
  const touch = (secretArg: string): string[] => ['-c', 'touch "$1"', 'sh', marker, secretArg];
  afterEach(() => rmSync(marker, { force: true }));
  after(() => {
    guardSecrets([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a command that holds no secret (the marker proves a start is seen)', async () => {
    guardSecrets(secrets);
    await ctx.exec.run('sh', touch('--user=backup'));
    assert.ok(existsSync(marker));
  });

  for (const [from, secret] of [
    ['the config', 'redis-config-pw'],
    ['a password file', 'from-a-password-file'],
    ['a URI password', 'mongo-uri-pw'],
    ['a BATT_* variable', 'pg-env-password'],
  ] as const) {
    it(`refuses to start a child whose argv holds a secret from ${from}, naming the service and the tool, never the secret`, async () => {
      guardSecrets(secrets);
      for (const start of [() => ctx.exec.run('sh', touch(`--password=${secret}`)), () => ctx.exec.spawn('sh', touch(`--password=${secret}`))]) {
        const error = await start().then(
          () => assert.fail('the child was started'),
          (e: unknown) => e,
        );
        assert.ok(error instanceof BattError, String(error));
        assert.equal(error.code, 'SECRET_ON_COMMAND_LINE');
        assert.match(error.message, /^redis: refusing to start sh: a password or key batt knows would be on its command line/);
        assert.match(error.hint!, /bug .*report it/);
        assert.ok(!`${error.message} ${error.hint}`.includes(secret), 'the secret is not in the message');
        assert.ok(!existsSync(marker), 'the child never started');
      }
    });
  }

  it("guards the kit's helpers, which plugins and the core also call directly, as much as ctx.exec", async () => {
    guardSecrets(secrets);
    await assert.rejects(runTool('sh', touch('mysql://u:redis-config-pw@h')), /refusing to start sh/);
    await assert.rejects(spawnTool('sh', touch('-predis-config-pw')), /refusing to start sh/);
    assert.ok(!existsSync(marker));
  });

  it('is off until the secrets are set, and then lets the same command run', async () => {
    guardSecrets([]);
    await ctx.exec.run('sh', touch('--password=redis-config-pw'));
    assert.ok(existsSync(marker), 'without the guard the bug would have reached the command line');
  });
});
