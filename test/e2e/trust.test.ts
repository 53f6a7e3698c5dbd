/**
 * batt runs as root: it trusts nothing another user can write (docs/security.md). Each test plants
 * what a hostile local user could (files, folders and links owned by `nobody`, or writable by
 * others) and checks that the attack fails, nothing runs and nothing is written or deleted where
 * it should not be; and that the honest case beside it still works.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, type Sandbox, withData } from '../lib/batt.js';

const NOBODY = 65534;
const asRoot = process.geteuid?.() === 0;
const nobodyOwns = (path: string): void => chownSync(path, NOBODY, NOBODY);
const sql = async (box: Sandbox, q: string): Promise<string> => (await execa('sqlite3', [join(box.home, 'catalog.db'), q])).stdout.trim();

describe('batt trusts nothing another user can write', { skip: asRoot ? false : 'these tests chown files to nobody: run them as root (CI does)' }, () => {
  let box: Sandbox;
  let data: string;
  beforeEach(() => ({ box, data } = withData({ a: 'alpha' })));
  afterEach(() => box.cleanup());

  it('a config left in the working directory is never read, and its code never runs', async () => {
    const evil = join(box.dir, 'shared');
    mkdirSync(evil, { mode: 0o777 });
    chmodSync(evil, 0o777);
    nobodyOwns(evil);
    const marker = join(box.dir, 'config-code-ran');
    writeFileSync(
      join(evil, '.battrc.cjs'),
      `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); module.exports = { destination: ${JSON.stringify(join(evil, 'stolen'))} };\n`,
    );
    writeFileSync(join(evil, 'batt.config.yaml'), `destination: ${join(evil, 'stolen')}\n`);
    for (const f of ['.battrc.cjs', 'batt.config.yaml']) nobodyOwns(join(evil, f));
    // Where cosmiconfig looks for its own "meta config" (unless a package.json is there first).
    mkdirSync(join(evil, '.config'));
    writeFileSync(join(evil, '.config', 'config.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'meta ran'); module.exports = {};\n`);
    for (const f of ['.config', '.config/config.cjs']) nobodyOwns(join(evil, f));
    const r = await box.batt(['--file', data, '--json'], { cwd: evil });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(existsSync(marker), false, `code in the working directory ran (${existsSync(marker) ? readFileSync(marker, 'utf8') : ''})`);
    assert.ok(json(r).items[0].file.startsWith(`${box.out}/`), json(r).items[0].file);
    assert.equal(existsSync(join(evil, 'stolen')), false);
    assert.match(r.stderr, new RegExp(`warning: not reading ${evil}/batt\\.config\\.yaml: batt reads its configuration only from ${box.home}/conf or --config FILE`));
  });

  it('a config file, or a folder above it, that another user owns or may write is refused with the fix', async () => {
    const conf = join(box.home, 'conf', 'batt.config.yaml');
    nobodyOwns(conf);
    const owned = await box.batt(['--file', data]);
    assert.equal(owned.exitCode, 2);
    assert.match(owned.stderr, new RegExp(`refusing ${conf} as configuration: ${conf} is owned by nobody \\(uid ${NOBODY}\\)`));
    assert.match(owned.stderr, /so someone other than root could change what batt runs\nhint: make it and every folder above it owned by root and not writable by group or others/);
    chownSync(conf, 0, 0);
    chmodSync(conf, 0o664);
    const writable = await box.batt(['--file', data]);
    assert.equal(writable.exitCode, 2);
    assert.match(writable.stderr, /is writable by its group \(mode 0664\)/);
    chmodSync(conf, 0o600);
    assert.equal((await box.batt(['--file', data])).exitCode, 0, 'the honest config works');

    // --config: the file and every folder above it.
    const folder = join(box.dir, 'theirs');
    mkdirSync(folder);
    const given = join(folder, 'batt.yaml');
    writeFileSync(given, `destination: ${box.out}/given\n`);
    nobodyOwns(folder);
    const above = await box.batt(['--config', given, '--file', data]);
    assert.equal(above.exitCode, 2);
    assert.match(above.stderr, new RegExp(`refusing ${given} as configuration: ${folder} is owned by nobody`));
    chownSync(folder, 0, 0);
    const ok = await box.batt(['--config', given, '--file', data, '--json']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.ok(json(ok).items[0].file.startsWith(`${box.out}/given/`));
  });

  it('the first config file found is the one read, even empty: a file after it, checked by no one, never runs', async () => {
    // A new home's batt.config.yaml is all comments; a .battrc.cjs beside it that others may write.
    const conf = join(box.home, 'conf');
    writeFileSync(join(conf, 'batt.config.yaml'), '# nothing set yet\n', { mode: 0o600 });
    const marker = join(box.dir, 'battrc-ran');
    const after = join(conf, '.battrc.cjs');
    writeFileSync(after, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); module.exports = { destination: ${JSON.stringify(join(box.dir, 'stolen'))} };\n`);
    chmodSync(after, 0o666);
    const r = await box.batt(['--file', data, '--path', join(box.out, 'here'), '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(existsSync(marker), false, 'the .battrc.cjs after the empty batt.config.yaml ran');
    assert.ok(json(r).items[0].file.startsWith(`${box.out}/here/`), json(r).items[0].file);
  });

  it('a home or a drop-in script another user could change is refused, and the script never runs', async () => {
    assert.equal((await box.batt(['list'])).exitCode, 0);
    const marker = join(box.dir, 'script-ran');
    const script = join(box.home, 'scripts-available', 'backup-theirs');
    writeFileSync(script, `#!/bin/sh\ntouch ${marker}\nmkdir -p "$BATT_DEST/theirs" && echo x > "$BATT_DEST/theirs/x"\n`, { mode: 0o755 });
    nobodyOwns(script);
    const r = await box.batt(['theirs', '--json']);
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, new RegExp(`refusing ${script} as a script batt runs: ${script} is owned by nobody`));
    assert.equal(existsSync(marker), false, 'the script ran');
    chownSync(script, 0, 0);
    assert.equal((await box.batt(['theirs'])).exitCode, 0, 'the honest script runs');
    assert.equal(existsSync(marker), true);

    chmodSync(box.home, 0o777);
    const home = await box.batt(['--file', data]);
    assert.equal(home.exitCode, 2);
    assert.match(home.stderr, new RegExp(`refusing ${box.home} as the batt home: ${box.home} is writable by others \\(mode 0777\\)`));
  });

  it('a destination another user owns, or a {service} folder they linked elsewhere, gets nothing; an honest link works', async () => {
    // Their folder as the destination root.
    const theirs = join(box.dir, 'theirs');
    mkdirSync(theirs);
    nobodyOwns(theirs);
    const r = await box.batt(['--file', data, '--path', join(theirs, '{service}'), '--json']);
    assert.equal(r.exitCode, 1);
    assert.match(json(r).items[0].error, new RegExp(`refusing ${theirs} as a backup folder: ${theirs} is owned by nobody`));
    assert.deepEqual(readdirSync(theirs), [], 'nothing written there');

    // Our destination, with the service folder planted as a link to somewhere else.
    const dest = join(box.dir, 'dest');
    const victim = join(box.dir, 'victim');
    mkdirSync(dest);
    mkdirSync(victim);
    symlinkSync(victim, join(dest, 'file'));
    (await import('node:fs')).lchownSync(join(dest, 'file'), NOBODY, NOBODY);
    const planted = await box.batt(['--file', data, '--path', join(dest, '{service}'), '--json']);
    assert.equal(planted.exitCode, 1);
    assert.match(json(planted).items[0].error, new RegExp(`${dest}/file is owned by nobody`));
    assert.deepEqual(readdirSync(victim), [], 'nothing written through the link');

    // A link root made itself (a backup disk mounted elsewhere) is fine.
    (await import('node:fs')).lchownSync(join(dest, 'file'), 0, 0);
    const honest = await box.batt(['--file', data, '--path', join(dest, '{service}'), '--json']);
    assert.equal(honest.exitCode, 0, honest.stderr);
    assert.ok(readdirSync(victim).some((n) => n.endsWith('.tar.zst')));

    // A folder on the way that others may write into is refused too.
    const open = join(box.dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const writable = await box.batt(['--file', data, '--path', join(open, 'x', '{service}'), '--json']);
    assert.equal(writable.exitCode, 1);
    assert.match(json(writable).items[0].error, new RegExp(`${open} is writable by others \\(mode 0777\\)`));
    assert.equal(existsSync(join(open, 'x')), false, 'no folder made under it');
  });

  it('a manifest naming a file outside its folder is not taken in, so prune cannot delete that file', async () => {
    const victim = join(box.dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const run = json(await box.batt(['--file', data, '--json']));
    const folder = dirname(run.items[0].file);
    const manifestPath = join(folder, `batt-run-${run.id}.json`);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const name = (await import('node:path')).relative(folder, victim);
    manifest.items.push({ ...manifest.items[0], name, target: '/elsewhere' });
    writeFileSync(manifestPath, JSON.stringify(manifest));
    for (const s of ['', '-wal', '-shm']) (await import('node:fs')).rmSync(join(box.home, `catalog.db${s}`), { force: true });
    const rebuilt = await box.batt(['catalog', 'rebuild', box.out, '--json']);
    assert.equal(rebuilt.exitCode, 1, rebuilt.stdout);
    assert.ok(
      json(rebuilt).skipped.some((s: any) => s.why.includes(`${JSON.stringify(name)} is not a file name inside the manifest's folder`)),
      rebuilt.stdout,
    );
    assert.equal(await sql(box, `select count(*) from items where file = '${victim}'`), '0');
    const newer = json(await box.batt(['--file', data, '--json']));
    assert.equal(newer.status, 'ok');
    assert.equal((await box.batt(['prune', '--keep-last', '1'])).exitCode, 0);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
  });

  it('a catalog row naming a file outside the backup folders: prune leaves the file, restore and verify refuse it', async () => {
    const victim = join(box.dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const first = json(await box.batt(['--file', data, '--json']));
    json(await box.batt(['--file', data, '--json']));
    await sql(box, `update items set file = '${victim}' where run_id = ${first.id}`);
    const restore = await box.batt(['restore', String(first.id), 'file', '--to', join(box.dir, 'r')]);
    assert.equal(restore.exitCode, 1);
    assert.match(restore.stderr, new RegExp(`names ${victim}, which is outside the backup folders this home knows`));
    const verify = await box.batt(['verify', String(first.id)]);
    assert.equal(verify.exitCode, 1);
    assert.match(verify.stderr, /outside the backup folders this home knows/);
    const prune = await box.batt(['prune', '--keep-last', '1']);
    assert.equal(prune.exitCode, 1, prune.stdout + prune.stderr);
    assert.match(prune.stderr, new RegExp(`left ${victim} in place: the catalog names it, but it is outside the backup folders`));
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(await sql(box, `select count(*) from items where run_id = ${first.id}`), '0');
  });

  it('a link where SHA256SUMS stands is replaced, never written through', async () => {
    const run = json(await box.batt(['--file', data, '--json']));
    const folder = dirname(run.items[0].file);
    // A link where SHA256SUMS stands is replaced, never written through.
    const victim = join(box.dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    (await import('node:fs')).rmSync(join(folder, 'SHA256SUMS'));
    symlinkSync(victim, join(folder, 'SHA256SUMS'));
    const again = await box.batt(['--file', data, '--json']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(lstatSync(join(folder, 'SHA256SUMS')).isSymbolicLink(), false);
    assert.equal(lstatSync(join(folder, 'SHA256SUMS')).mode & 0o777, 0o600);
  });
});
