import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSection, checkValue, globalKeys } from './schema.js';
import { mergeConfigData, mergeEnv, type BattConfig } from './load.js';
import { collectSecrets } from './secrets.js';

const services = [
  { name: 'file', aliases: ['files'], keys: { paths: { type: 'string[]' as const, describe: 'paths' } } },
  { name: 'custom', aliases: [] },
];
const fresh = (): BattConfig => ({ services: {}, files: [] });

describe('config validation', () => {
  it('accepts well-formed values and turns a lone string into a list', () => {
    assert.deepEqual(checkSection({ paths: { type: 'string[]', describe: '' } }, { paths: '/etc' }, 'file', 'f'), { paths: ['/etc'] });
    assert.equal(checkValue(globalKeys.concurrency, 4, 'concurrency', 'f'), 4);
  });

  it('names the key, the file and the expected form', () => {
    assert.throws(() => checkValue(globalKeys.concurrency, 1.5, 'concurrency', 'a.yaml'), /a\.yaml: "concurrency" must be a whole number of at least 1, got 1\.5/);
    assert.throws(() => checkValue(globalKeys.compression_level, 40, 'compression_level', 'a.yaml'), /from 1 to 19, got 40/);
    assert.throws(() => checkValue(globalKeys.compression, 'lz4', 'compression', 'a.yaml'), /one of "zstd", "gzip", "none", got "lz4"/);
    assert.throws(() => checkSection({}, { nope: 1 }, 'file', 'b.json'), /b\.json: unknown key "file\.nope"/);
  });

  it('merges files by service name or alias, and keeps script sections free-form', () => {
    const config = fresh();
    mergeConfigData(config, { files: { paths: ['/a'] }, custom: { anything: [1, 2] }, concurrency: 2 }, 'c.json', services);
    assert.deepEqual(config.services, { file: { paths: ['/a'] }, custom: { anything: [1, 2] } });
    assert.equal(config.concurrency, 2);
    assert.throws(() => mergeConfigData(fresh(), { fiel: {} }, 'c.json', services), /unknown key "fiel"/);
    assert.throws(() => mergeConfigData(fresh(), { custom: 'x' }, 'c.json', services), /"custom" must be a mapping/);
  });

  it('reads BATT_<KEY> and BATT_<SERVICE>_<KEY>, later winning over files', () => {
    const config = fresh();
    mergeConfigData(config, { file: { paths: ['/from-file'] } }, 'c.json', services);
    mergeEnv(config, { BATT_FILE_PATHS: '/a,/b', BATT_CONCURRENCY: '3' }, services);
    assert.deepEqual(config.services.file.paths, ['/a', '/b']);
    assert.equal(config.concurrency, 3);
    assert.throws(() => mergeEnv(fresh(), { BATT_CONCURRENCY: 'abc' }, services), /"BATT_CONCURRENCY" must be a whole number of at least 1, got "abc"/);
  });

  it('collects secrets from config keys and secret-looking variables', () => {
    const config = fresh();
    config.services.custom = { password: 'p1', password_file: '/not/a/secret', nested: { token: 't1' } };
    const secrets = collectSecrets(config, { BATT_MYSQL_PASSWORD: 'p2', PGPASSWORD: 'p3', BATT_HOME: '/h', PATH: '/bin' });
    assert.deepEqual([...secrets].sort(), ['p1', 'p2', 'p3', 't1']);
  });

  it('tells secrets from look-alikes, and finds passwords inside connection strings', () => {
    const config = fresh();
    config.services.mongodb = { auth_database: 'admin', ssl_key: '/etc/k.pem', uri: 'mongodb://u:p%40ss@h/db' };
    const secrets = collectSecrets(config, { BATT_MYSQL_PASSWORD_FILE: '/run/pw', REDISCLI_AUTH: 'r1', BATT_API_KEY: 'k1' });
    assert.deepEqual([...secrets].sort(), ['k1', 'p@ss', 'r1']);
  });
});
