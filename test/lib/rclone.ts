/**
 * A private rclone remote for tests: `rclone serve webdav` (or `serve sftp`, which, unlike
 * WebDAV, streams an upload straight into its file) of a temporary folder on a free loopback port, described to the client only through RCLONE_CONFIG_BATTTEST_* variables, with
 * `--config /dev/null` and HOME, XDG folders and TMPDIR in temporary folders: the machine's own
 * rclone.conf is never read and nothing is written outside the test's folders.
 *
 * The server runs under `setpriv --pdeathsig KILL`: it dies with the test process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { RcloneStorage } from '@batt/core/storage/rclone';
import { freePort } from './servers.js';

export interface ServedRemote {
  port: number;
  /** The folder the server serves: the remote's root. */
  dir: string;
  /** The remote's name with its colon: `batttest:`. */
  remote: string;
  /** The environment that describes the remote to rclone (and keeps it in temporary folders). */
  env: Record<string, string>;
  configFile: string;
  /** A storage on the remote, rooted at `root` (a folder on it) when given. */
  storage(root?: string): RcloneStorage;
  /** Kills the server; its folder stays. */
  stop(): Promise<void>;
  /** Starts the server again, on the same port and folder. */
  start(): Promise<void>;
  /** Stops the server and removes every folder. */
  remove(): Promise<void>;
}

/** `auth`: the server asks for this user and password (the client's env then carries `clientPass`, obscured). */
export function startWebdav(options: { auth?: { user: string; pass: string }; clientPass?: string } = {}): Promise<ServedRemote> {
  return serve('webdav', options);
}

/** An SFTP server that asks for no credentials (the client offers a password it ignores). */
export function startSftp(): Promise<ServedRemote> {
  return serve('sftp', { auth: undefined });
}

const obscure = async (pass: string, env: Record<string, string>): Promise<string> => (await execa('rclone', ['--config', '/dev/null', 'obscure', pass], { env })).stdout.trim();

async function serve(kind: 'webdav' | 'sftp', options: { auth?: { user: string; pass: string }; clientPass?: string }): Promise<ServedRemote> {
  const base = mkdtempSync(join(tmpdir(), 'batt-rclone-'));
  const dir = join(base, 'served');
  const home = join(base, 'home');
  const tmp = join(base, 'tmp');
  for (const d of [dir, home, tmp]) mkdirSync(d, { recursive: true });
  const isolation = { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), TMPDIR: tmp };
  const port = await freePort();
  const env: Record<string, string> =
    kind === 'webdav'
      ? { ...isolation, RCLONE_CONFIG_BATTTEST_TYPE: 'webdav', RCLONE_CONFIG_BATTTEST_URL: `http://127.0.0.1:${port}`, RCLONE_CONFIG_BATTTEST_VENDOR: 'other' }
      : {
          ...isolation,
          RCLONE_CONFIG_BATTTEST_TYPE: 'sftp',
          RCLONE_CONFIG_BATTTEST_HOST: '127.0.0.1',
          RCLONE_CONFIG_BATTTEST_PORT: String(port),
          RCLONE_CONFIG_BATTTEST_USER: 'batt',
          // Without a password or key the client asks for ssh-agent; the --no-auth server ignores it.
          RCLONE_CONFIG_BATTTEST_PASS: await obscure('unused', isolation),
          RCLONE_CONFIG_BATTTEST_SHELL_TYPE: 'none',
        };
  if (options.auth) {
    env.RCLONE_CONFIG_BATTTEST_USER = options.auth.user;
    env.RCLONE_CONFIG_BATTTEST_PASS = await obscure(options.clientPass ?? options.auth.pass, isolation);
  }
  /** Whether our server answers: it serves the marker file. */
  const serves = async (marker: string): Promise<boolean> => {
    if (kind === 'sftp') {
      const listed = await execa('rclone', ['--config', '/dev/null', '-q', '--retries', '1', '--low-level-retries', '1', 'lsf', 'batttest:'], { env, reject: false });
      return listed.exitCode === 0 && String(listed.stdout).split('\n').includes(marker);
    }
    const headers = options.auth ? { authorization: `Basic ${Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64')}` } : undefined;
    return (
      (await fetch(`http://127.0.0.1:${port}/${marker}`, { headers }).then(
        (r) => r.text(),
        () => '',
      )) === marker
    );
  };
  let server: ResultPromise | undefined;

  const start = async (): Promise<void> => {
    // A marker only our server serves: not another that took the port first.
    const marker = `.ready-${randomBytes(6).toString('hex')}`;
    writeFileSync(join(dir, marker), marker);
    const auth = kind === 'sftp' ? ['--no-auth'] : options.auth ? ['--user', options.auth.user, '--pass', options.auth.pass] : [];
    const proc = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'rclone', 'serve', kind, '--config', '/dev/null', '-q', '--addr', `127.0.0.1:${port}`, ...auth, dir], {
      env: isolation,
      reject: false,
      cleanup: true,
    });
    let exited = false;
    void proc.then(() => (exited = true));
    try {
      for (const until = Date.now() + 20_000; ;) {
        if (await serves(marker)) break;
        if (exited) throw new Error(`rclone serve ${kind} exited while starting: ${String((await proc).stderr)}`);
        if (Date.now() > until) throw new Error(`rclone serve ${kind} did not start within 20s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (error) {
      proc.kill('SIGKILL');
      throw error;
    } finally {
      rmSync(join(dir, marker), { force: true });
    }
    server = proc;
  };

  const stop = async (): Promise<void> => {
    if (!server) return;
    server.kill('SIGTERM');
    await server;
    server = undefined;
  };

  await start();
  return {
    port,
    dir,
    remote: 'batttest:',
    env,
    configFile: '/dev/null',
    storage: (root = '') => new RcloneStorage({ name: `rclone ${kind}`, remote: `batttest:${root}`, env, configFile: '/dev/null' }),
    stop,
    start,
    async remove() {
      await stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The `storage:` section for an rclone storage `name` at `path` below the served remote (as config YAML). */
export function rcloneStorageYaml(served: ServedRemote, name: string, path: string): string {
  return `storage:\n  - name: ${name}\n    type: rclone\n    remote: "${served.remote}${path}"\n    rclone_config: ${JSON.stringify(served.configFile)}\n`;
}
