import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, sandbox, type Sandbox } from '../lib/batt.js';
import { startPostgres, type Postgres } from '../lib/servers.js';

/** An age key pair made by Debian's age-keygen: the identity file and its public key. */
function ageKey(dir: string, name: string): { file: string; recipient: string } {
  const file = join(dir, name);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
  return { file, recipient };
}

/** The files under `root` (relative path → content). */
function files(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), join(rel, e.name));
      else out.set(join(rel, e.name), readFileSync(join(dir, e.name), 'utf8'));
    }
  };
  walk(root, '');
  return out;
}

/** The shell pipe a person would use to read an artifact back: decrypt | zstd -d | tar -t. */
function listWith(decrypt: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync('sh', ['-c', `${decrypt} | zstd -d | tar -t`], { encoding: 'utf8', env });
}

const isZstd = (file: string): boolean => spawnSync('zstd', ['-t', '-q', file]).status === 0;

describe('encrypted backups', () => {
  let box: Sandbox;
  let data: string;
  let key: { file: string; recipient: string };
  before(() => {
    box = sandbox({ env: { BATT_SUSPECT_BELOW: '0' } });
    data = box.folder('data', { 'a.txt': 'alpha\n', 'b.txt': 'beta\n' });
    mkdirSync(join(data, 'sub'));
    writeFileSync(join(data, 'sub', 'c.txt'), 'gamma\n');
    key = ageKey(box.dir, 'key.txt');
  });
  after(() => box.cleanup());

  describe('age', () => {
    let artifact: string;
    let runId: number;
    before(async () => {
      const r = await box.batt(['--file', data, '--path', join(box.out, 'age'), '--json'], { env: { BATT_AGE_RECIPIENTS: `  ${key.recipient} ` } });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      runId = json(r).id;
      artifact = json(r).items[0].file;
    });

    it('writes a .zst.age artifact that is not zstd, and that age -d | zstd -d turns back into the tar', () => {
      assert.match(artifact, /\.tar\.zst\.age$/);
      assert.ok(readFileSync(artifact).subarray(0, 21).toString() === 'age-encryption.org/v1', 'an age file');
      assert.equal(isZstd(artifact), false, 'the stored bytes are not readable as zstd');
      const listing = listWith(`age -d -i '${key.file}' '${artifact}'`);
      assert.match(listing, /data\/a\.txt/);
      assert.match(listing, /data\/sub\/c\.txt/);
    });

    it('records the recipient (never the identity) in the manifest and the catalog, and the SHA-256 of the stored bytes', async () => {
      const folder = join(artifact, '..');
      const manifest = JSON.parse(readFileSync(join(folder, `batt-run-${runId}.json`), 'utf8'));
      assert.equal(manifest.items[0].encryption, 'age');
      assert.deepEqual(manifest.items[0].recipients, [key.recipient]);
      assert.doesNotMatch(readFileSync(join(folder, `batt-run-${runId}.json`), 'utf8'), /AGE-SECRET-KEY/);
      const sums = readFileSync(join(folder, 'SHA256SUMS'), 'utf8');
      const sha = execFileSync('sha256sum', [artifact], { encoding: 'utf8' }).split(' ')[0];
      assert.ok(sums.includes(`${sha}  ${artifact.split('/').pop()}`), sums);
      const show = await box.batt(['show', String(runId), '--json']);
      assert.equal(show.exitCode, 0, show.stderr);
      const row = execFileSync('sqlite3', [join(box.home, 'catalog.db'), `select encryption, recipients from items where run_id = ${runId}`], { encoding: 'utf8' });
      assert.equal(row.trim(), `age|${JSON.stringify([key.recipient])}`);
    });

    it('restores with --identity; without one it fails naming the recipient and changes nothing', async () => {
      const without = join(box.dir, 'r-none');
      const r = await box.batt(['restore', String(runId), 'file', '--to', without]);
      assert.equal(r.exitCode, 2, r.stderr + r.stdout);
      assert.match(r.stderr, /encrypted with age to age1/);
      assert.ok(r.stderr.includes(key.recipient), r.stderr);
      assert.match(r.stderr, /--identity/);
      assert.equal(existsSync(without), false, 'nothing restored');

      const to = join(box.dir, 'r-age');
      const ok = await box.batt(['restore', String(runId), 'file', '--to', to, '--identity', key.file]);
      assert.equal(ok.exitCode, 0, ok.stderr + ok.stdout);
      assert.deepEqual(files(join(to, data)), files(data));

      const viaEnv = join(box.dir, 'r-env');
      const env = await box.batt(['restore', String(runId), 'file', '--to', viaEnv], { env: { BATT_AGE_IDENTITY: key.file } });
      assert.equal(env.exitCode, 0, env.stderr + env.stdout);
      assert.deepEqual(files(join(viaEnv, data)), files(data));
    });

    it('a wrong identity fails with one clear error, and touches nothing', async () => {
      const other = ageKey(box.dir, 'other.txt');
      const to = join(box.dir, 'r-wrong');
      const r = await box.batt(['restore', String(runId), 'file', '--to', to, '--identity', other.file]);
      assert.notEqual(r.exitCode, 0);
      assert.match(r.stderr, /cannot decrypt .*none of the identities given is one it was encrypted to/);
      assert.ok(r.stderr.includes(key.recipient), r.stderr);
      assert.equal(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('batt:')).length,
        1,
        r.stderr,
      );
      assert.equal(existsSync(to), false);
      const notKey = await box.batt(['restore', String(runId), 'file', '--to', to, '--identity', join(data, 'a.txt')]);
      assert.equal(notKey.exitCode, 2);
      assert.match(notKey.stderr, /is not an age identity file/);
    });

    it('verify without the identity runs the integrity checks and says the format needs the identity; with it, checks the format', async () => {
      const r = await box.batt(['verify', String(runId), '--json']);
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      const [outcome] = json(r);
      const names = outcome.checks.map((c: any) => c.name);
      assert.deepEqual(names, ['sha256', 'SHA256SUMS', 'format']);
      assert.match(outcome.checks[2].detail, /not checked: encrypted with age .*--identity/);

      const full = await box.batt(['verify', String(runId), '--json', '--restore-test', '--identity', key.file]);
      assert.equal(full.exitCode, 0, full.stderr + full.stdout);
      const checks = json(full).flatMap((o: any) => o.checks.map((c: any) => c.name));
      assert.ok(checks.includes('tar listing'), checks.join(', '));
      assert.ok(checks.includes('file hashes'), checks.join(', '));

      const wrong = await box.batt(['verify', String(runId), '--json', '--identity', ageKey(box.dir, 'third.txt').file]);
      assert.equal(wrong.exitCode, 1);
      assert.match(json(wrong)[0].error, /none of the identities given/);
    });

    it('a damaged encrypted artifact fails its SHA-256 before anything is decrypted', async () => {
      const copy = await box.batt(['--file', data, '--path', join(box.out, 'age-damaged'), '--json'], { env: { BATT_AGE_RECIPIENTS: key.recipient } });
      assert.equal(copy.exitCode, 0, copy.stderr);
      const file = json(copy).items[0].file;
      const bytes = readFileSync(file);
      bytes[bytes.length - 5] ^= 0xff;
      writeFileSync(file, bytes);
      const r = await box.batt(['verify', String(json(copy).id), '--json', '--identity', key.file]);
      assert.equal(r.exitCode, 1);
      assert.match(json(r)[0].error, /does not match its SHA-256/);
    });
  });

  describe('gpg', () => {
    let gnupg: string;
    let fpr: string;
    let runId: number;
    let artifact: string;
    before(async () => {
      gnupg = join(box.dir, 'gnupg');
      mkdirSync(gnupg, { mode: 0o700 });
      const env = { ...process.env, GNUPGHOME: gnupg };
      execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'batt test <batt@example.invalid>', 'default', 'default', 'never'], { env, stdio: 'ignore' });
      fpr = execFileSync('gpg', ['--batch', '--list-keys', '--with-colons'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .find((l) => l.startsWith('fpr:'))!
        .split(':')[9];
      const config = join(box.dir, 'gpg.yaml');
      writeFileSync(config, `destination: ${JSON.stringify(join(box.out, 'gpg/{service}'))}\nfile:\n  encryption:\n    gpg_recipients: [${fpr.slice(-16)}]\n`, { mode: 0o600 });
      const r = await box.batt(['--config', config, '--file', data, '--json'], { env: { GNUPGHOME: gnupg } });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      runId = json(r).id;
      artifact = json(r).items[0].file;
    });

    it('writes a .zst.gpg artifact that gpg -d | zstd -d reads, recorded with the key fingerprint', () => {
      assert.match(artifact, /\.tar\.zst\.gpg$/);
      assert.equal(isZstd(artifact), false);
      const listing = listWith(`gpg --batch -q -d '${artifact}'`, { ...process.env, GNUPGHOME: gnupg });
      assert.match(listing, /data\/b\.txt/);
      const manifest = JSON.parse(readFileSync(join(artifact, '..', `batt-run-${runId}.json`), 'utf8'));
      assert.equal(manifest.items[0].encryption, 'gpg');
      assert.deepEqual(manifest.items[0].recipients, [fpr]);
    });

    it('restores through the keyring; a keyring without the secret key fails naming the key and restores nothing', async () => {
      const to = join(box.dir, 'g-restore');
      const r = await box.batt(['restore', String(runId), 'file', '--to', to], { env: { GNUPGHOME: gnupg } });
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      assert.deepEqual(files(join(to, data)), files(data));

      const empty = join(box.dir, 'gnupg-empty');
      mkdirSync(empty, { mode: 0o700 });
      const none = join(box.dir, 'g-none');
      const refused = await box.batt(['restore', String(runId), 'file', '--to', none], { env: { GNUPGHOME: empty } });
      assert.notEqual(refused.exitCode, 0);
      assert.match(refused.stderr, /cannot decrypt .*encrypted with gpg to/);
      assert.ok(refused.stderr.includes(fpr), refused.stderr);
      assert.equal(existsSync(none), false);

      const verify = await box.batt(['verify', String(runId), '--json'], { env: { GNUPGHOME: gnupg } });
      assert.equal(verify.exitCode, 0, verify.stderr + verify.stdout);
      assert.ok(json(verify)[0].checks.some((c: any) => c.name === 'tar listing'));
    });
  });

  describe('recipients that cannot be used fail before any dump', () => {
    const noArtifact = (dir: string): void => assert.equal(existsSync(dir) && readdirSync(dir, { recursive: true }).some((n) => String(n).includes('.tar')), false);

    it('a malformed age recipient', async () => {
      const dest = join(box.out, 'bad-age');
      const before = execFileSync('sqlite3', [join(box.home, 'catalog.db'), 'select count(*) from items'], { encoding: 'utf8' });
      const r = await box.batt(['--file', data, '--path', dest], { env: { BATT_AGE_RECIPIENTS: `${key.recipient},age1notarecipient` } });
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /"age1notarecipient" is not an age recipient/);
      assert.match(r.stderr, /hint: .*age-keygen/);
      noArtifact(dest);
      const after = execFileSync('sqlite3', [join(box.home, 'catalog.db'), 'select count(*) from items'], { encoding: 'utf8' });
      assert.equal(after, before, 'no catalog row');
    });

    it('an identity given where a recipient belongs, and both kinds at once', async () => {
      const secret = readFileSync(key.file, 'utf8').match(/AGE-SECRET-KEY-\S+/)![0];
      const r = await box.batt(['--file', data, '--path', join(box.out, 'bad-id')], { env: { BATT_AGE_RECIPIENTS: secret } });
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /is not an age recipient/);
      const both = await box.batt(['--file', data, '--path', join(box.out, 'both')], { env: { BATT_AGE_RECIPIENTS: key.recipient, BATT_GPG_RECIPIENTS: 'ABCDEF' } });
      assert.equal(both.exitCode, 2, both.stderr);
      assert.match(both.stderr, /both age_recipients and gpg_recipients/);
    });

    it('an unknown gpg key', async () => {
      const dest = join(box.out, 'bad-gpg');
      const gnupg = join(box.dir, 'gnupg-unknown');
      mkdirSync(gnupg, { mode: 0o700 });
      const r = await box.batt(['--file', data, '--path', dest], { env: { BATT_GPG_RECIPIENTS: '0123456789ABCDEF0123456789ABCDEF01234567', GNUPGHOME: gnupg } });
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /the gpg key "0123456789ABCDEF0123456789ABCDEF01234567" is not in the keyring/);
      assert.match(r.stderr, /hint: import the public key/);
      noArtifact(dest);
    });
  });
});

describe('an encrypted PostgreSQL backup', () => {
  let pg: Postgres;
  let box: Sandbox;
  let env: Record<string, string>;
  before(async () => {
    pg = await startPostgres();
    box = sandbox();
    const key = ageKey(box.dir, 'key.txt');
    env = {
      ...pg.env,
      BATT_POSTGRESQL_AGE_RECIPIENTS: key.recipient,
      BATT_AGE_IDENTITY: key.file,
    };
    await pg.sql('CREATE DATABASE crypt');
    await pg.sql(`CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) SELECT 'row ' || i FROM generate_series(1, 500) i;`, 'crypt');
  });
  after(async () => {
    await pg?.stop();
    box?.cleanup();
  });

  it('is backed up encrypted, restored with the identity into a new database, and holds the same rows', async () => {
    const b = await box.batt(['--postgresql-db', 'crypt', '--json'], { env });
    assert.equal(b.exitCode, 0, b.stderr + b.stdout);
    const item = json(b).items.find((i: any) => i.target === 'crypt');
    assert.match(item.file, /\.age$/);
    const r = await box.batt(['restore', String(json(b).id), 'postgresql', '--target', 'crypt', '--into', 'crypt_back'], { env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const sum = (db: string): Promise<string> => pg.sql("SELECT count(*) || ' ' || md5(string_agg(v, ',' ORDER BY id)) FROM t", db);
    assert.equal(await sum('crypt_back'), await sum('crypt'));
    const drill = await box.batt(['verify', String(json(b).id), '--restore-test', '--json'], { env });
    assert.equal(drill.exitCode, 0, drill.stderr + drill.stdout);
  });
});
