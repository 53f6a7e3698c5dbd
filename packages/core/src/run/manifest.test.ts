import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sumLine } from './manifest.js';
import { artifactBase } from './names.js';
import { splitName } from '../plugins/script-runner.js';

describe('names and checksum lines', () => {
  it('writes sha256sum lines, escaping names as GNU coreutils does', () => {
    const h = 'a'.repeat(64);
    assert.equal(sumLine(h, 'db.sql.zst'), `${h}  db.sql.zst`);
    assert.equal(sumLine(h, 'a\\b\nc'), `\\${h}  a\\\\b\\nc`);
  });

  it('makes file-name-safe artifact names', () => {
    assert.equal(artifactBase('/var/www'), 'var_www');
    assert.equal(artifactBase('/'), 'root');
    assert.equal(artifactBase('/srv/a b/ü'), 'srv_a_b_');
    assert.equal(artifactBase('--result-file=/tmp/x'), '_result-file_tmp_x');
    assert.equal(artifactBase('../..'), '__..');
  });

  it('splits the extension a unique suffix goes before', () => {
    assert.deepEqual(splitName('db.sql.gz'), ['db', '.sql.gz']);
    assert.deepEqual(splitName('10.0.0.1_x.json'), ['10.0.0.1_x', '.json']);
    assert.deepEqual(splitName('archive.tar.zst'), ['archive', '.tar.zst']);
    assert.deepEqual(splitName('README'), ['README', '']);
    assert.deepEqual(splitName('.hidden'), ['.hidden', '']);
  });
});
