import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mergeEnv, type BattConfig } from './load.js';

it('BATT_S3_BUCKET, _ENDPOINT, _PREFIX and _REGION add one S3 storage named s3 (path style with an endpoint)', () => {
  const config: BattConfig = {
    services: {},
    files: [],
    storage: [
      { name: 's3', type: 'local', path: '/old' },
      { name: 'disk', type: 'local', path: '/mnt/b' },
    ],
  };
  mergeEnv(config, { BATT_S3_BUCKET: 'backups', BATT_S3_ENDPOINT: 'http://127.0.0.1:9000', BATT_S3_PREFIX: '{host}/' }, []);
  assert.deepEqual(config.storage, [
    { name: 'disk', type: 'local', path: '/mnt/b' },
    { name: 's3', type: 's3', bucket: 'backups', endpoint: 'http://127.0.0.1:9000', prefix: '{host}/', force_path_style: true },
  ]);
  const untouched: BattConfig = { services: {}, files: [] };
  mergeEnv(untouched, { BATT_S3_ENDPOINT: 'http://x' }, []);
  assert.equal(untouched.storage, undefined, 'no bucket, no storage');
});
