/** Placeholder until the rclone storage lands: every use fails with a clear message. */
import { BattError } from '../errors/errors.js';
import { LocalStorage } from './local.js';
export class RcloneStorage extends LocalStorage {
  constructor(options: Record<string, unknown>) {
    super();
    throw new BattError('CONFIG', `storage "${String(options.name)}": the rclone storage is not part of this build`);
  }
}
