/**
 * The sandbox of a describe block's tests, sharing one storage served on loopback for all of
 * them: an S3 bucket (s3rver) or an rclone remote (rclone serve webdav), named in the sandbox's
 * configuration, with a `data` folder holding `files`. Made before the tests, removed after.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { sandbox, standIn, type Sandbox } from './batt.js';
import { rcloneStorageYaml, startWebdav, type ServedRemote } from './rclone.js';
import { s3StorageYaml, startS3, type S3Server } from './s3.js';

export interface Offsite<Server> {
  readonly box: Sandbox;
  /** The `data` folder. */
  readonly data: string;
  readonly server: Server;
}

/** Starts the server and makes the sandbox before the tests; what it returns reads them while the tests run. */
function offsiteFor<Server>(
  start: () => Promise<Server>,
  stop: (server: Server) => Promise<void>,
  setup: (server: Server) => Sandbox,
  files: Record<string, string>,
): Offsite<Server> {
  let parts: { box: Sandbox; data: string; server: Server } | undefined;
  before(async () => {
    const server = await start();
    const box = setup(server);
    parts = { box, data: box.folder('data', files), server };
  });
  after(async () => {
    if (!parts) return;
    parts.box.cleanup();
    await stop(parts.server);
  });
  return standIn('the storage', () => parts);
}

const conf = (box: Sandbox): string => join(box.home, 'conf', 'batt.config.yaml');

/** A storage `offsite` on a bucket of a private S3 server, its keys under `<host>/`. */
export function s3Offsite(files: Record<string, string>): Offsite<S3Server> {
  return offsiteFor(
    startS3,
    (s3) => s3.stop(),
    (s3) => {
      const box = sandbox();
      appendFileSync(conf(box), ['storage:', ...s3StorageYaml(s3, box.dir, 'offsite', { prefix: '"{host}/"' }), ''].join('\n'));
      return box;
    },
    files,
  );
}

/** A storage `dav` on a private rclone remote (webdav), its objects under `backups/<host>/`. */
export function webdavOffsite(files: Record<string, string>): Offsite<ServedRemote> {
  return offsiteFor(
    () => startWebdav(),
    (served) => served.remove(),
    (served) => {
      const box = sandbox({ env: served.env });
      appendFileSync(conf(box), rcloneStorageYaml(served, 'dav', 'backups/{host}'));
      return box;
    },
    files,
  );
}
