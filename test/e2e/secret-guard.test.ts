/**
 * The secret-leak guard end to end (packages/core/src/exec/guard.ts): a copy of the built batt
 * with a bug planted in its redis plugin, the classic one, `redis-cli -a <password>`. The shipped
 * code has no switch for this: the test edits its own copy of the bundle, as a careless change
 * to the plugin would.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { json, logLines, recordCalls, repoRoot, sandboxFor, type BattResult } from '../lib/batt.js';
import { startRedis, type Redis } from '../lib/servers.js';

const password = 'planted-leak-pw 7f3a';

/** A copy of the built batt (bundle, launcher) in `dir` whose redis plugin passes the password as `-a`. Returns its launcher. */
function plantedBatt(dir: string): string {
  const copy = join(dir, 'planted');
  const bundle = join(copy, 'dist', 'bundle');
  cpSync(join(repoRoot, 'packages', 'batt', 'dist', 'bundle'), bundle, { recursive: true });
  // Its dependencies and the shipped defaults a new home is seeded from, as beside the real one.
  symlinkSync(join(repoRoot, 'packages', 'batt', 'node_modules'), join(copy, 'node_modules'));
  for (const shipped of ['scripts-available', 'conf']) symlinkSync(join(repoRoot, shipped), join(copy, shipped));
  const healthy = '"--no-auth-warning", ...args]';
  const buggy = '"--no-auth-warning", "-a", conn.password, ...args]';
  const patched = readdirSync(bundle).filter((f) => {
    const text = f.endsWith('.js') ? readFileSync(join(bundle, f), 'utf8') : '';
    if (!text.includes(healthy)) return false;
    writeFileSync(join(bundle, f), text.replace(healthy, buggy));
    return true;
  });
  assert.equal(patched.length, 1, `the redis plugin's redis-cli call (${healthy}) should be in one file of the bundle: update this test with the plugin`);
  writeFileSync(join(copy, 'batt.mjs'), "import { main } from './dist/bundle/main.js';\nprocess.exitCode = await main(process.argv.slice(2), '0.0.0-planted');\n");
  return join(copy, 'batt.mjs');
}

describe('the secret-leak guard, with a bug planted in the redis plugin', () => {
  const box = sandboxFor('all');
  let redis: Redis;
  let launcher: string;
  let calls: { path: string; log(): string };
  let env: Record<string, string>;
  before(async () => {
    redis = await startRedis({ password });
    await redis.cli('SET', 'greeting', 'hello');
    launcher = plantedBatt(box.dir);
    calls = await recordCalls(join(box.dir, 'calls'), ['redis-cli']);
    env = { BATT_REDIS_HOST: '127.0.0.1', BATT_REDIS_PORT: String(redis.port), BATT_REDIS_PASSWORD: password, PATH: calls.path };
  });
  after(() => redis?.stop());

  const planted = async (args: string[]): Promise<BattResult> => {
    const r = await execa(process.execPath, [launcher, '--home', box.home, ...args], { reject: false, cwd: box.dir, extendEnv: false, env: box.env(env), timeout: 120_000 });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  it('a plugin bug that puts the redis password in argv: redis-cli never starts with it, the item fails naming redis, the other service is backed up (partial, exit 1), and the password is nowhere', async () => {
    const data = box.folder('data', { 'a.txt': 'alpha\n' });
    const r = await planted(['redis', '--file', data, '--json']);
    const run = json(r);
    assert.equal(r.exitCode, 1, r.stderr + r.stdout);
    assert.equal(run.status, 'partial');
    const [file, cache] = ['file', 'redis'].map((s) => run.items.find((i: { service: string }) => i.service === s));
    assert.equal(file.status, 'ok');
    assert.equal(cache.status, 'failed');
    assert.match(cache.error, /^redis: refusing to start redis-cli: a password or key batt knows would be on its command line/);
    assert.match(cache.error, /nothing was started; this is a bug in the redis plugin or script: please report it/);

    const argv = calls
      .log()
      .split('\n')
      .filter((l) => l.startsWith('ARGV '));
    assert.ok(argv.length > 0, 'the recorder saw redis-cli (its --version)');
    assert.deepEqual(
      argv.filter((l) => l.includes(password) || / -a /.test(l)),
      [],
      'no redis-cli ever started with the password on its command line',
    );
    assert.ok(!argv.some((l) => l.includes('INFO') || l.includes('--rdb')), 'no redis-cli started for the backup at all');

    const shown = await planted(['show', String(run.id), '--json']);
    const catalog = ['catalog.db', 'catalog.db-wal'].map((f) => join(box.home, f)).filter(existsSync);
    for (const [where, text] of [
      ['the output', r.stdout + r.stderr],
      ['batt show', shown.stdout + shown.stderr],
      ['the log', logLines(box).join('\n')],
      ['the catalog', catalog.map((f) => readFileSync(f).toString('latin1')).join('')],
    ])
      assert.ok(!text.includes(password), `the password is not in ${where}`);
  });

  it('the same configuration, with the plugin as shipped, backs the server up', async () => {
    const r = await box.batt(['redis', '--json'], { env });
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.equal(json(r).items[0].status, 'ok');
  });
});
