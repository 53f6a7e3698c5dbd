/** Placeholder until the s3 storage lands: every use fails with a clear message. */
import { BattError } from '../errors/errors.js';
import { LocalStorage } from './local.js';
export class S3Storage extends LocalStorage {
  constructor(options: Record<string, unknown>) {
    super();
    throw new BattError('CONFIG', `storage "${String(options.name)}": the s3 storage is not part of this build`);
  }
}
