/**
 * The configuration's shape, and its validation. Each key declares its type so that a wrong
 * key or value is reported with the key, the file it came from and the form expected.
 * Service sections are declared by the plugins; drop-in scripts' sections are free-form.
 * Longer than 200 lines because the top-level keys are declared here, one line each, beside the
 * checks that read them.
 */
import { BattError, didYouMean } from '../errors/errors.js';
import { notifyKeys } from './notify-keys.js';
import { shortened } from '../text/printable.js';

export type ConfigKeySpec =
  | { type: 'string'; describe: string }
  | { type: 'number'; describe: string; min?: number; max?: number; integer?: boolean }
  | { type: 'boolean'; describe: string }
  | {
      type: 'string[]';
      describe: string;
      /** The environment form splits on whitespace too, not only commas. */
      words?: boolean;
      /** When given, every entry must be one of these. */
      values?: readonly string[];
    }
  | { type: 'enum'; values: readonly string[]; describe: string }
  /** Commands, each an argv list (`[umount, /mnt/snap]`); a single list of strings is one command. No shell. */
  | { type: 'argv[]'; describe: string }
  /**
   * A nested mapping with its own keys (`encryption:`); each key's environment form is
   * BATT_[<SERVICE>_]<KEY>, or with `prefixed` BATT_<MAPPING>_<KEY> (`notify:`: BATT_NOTIFY_ON), and
   * those variables then add to the files' mapping instead of replacing it.
   */
  | { type: 'mapping'; keys: Record<string, ConfigKeySpec>; describe: string; prefixed?: boolean }
  /** A list of mappings, each checked against `keys` (e.g. `storage:`). */
  | { type: 'section[]'; keys: Record<string, ConfigKeySpec>; describe: string };

/** A section's key specs, as a service declares them. */
export type ConfigKeys = Record<string, ConfigKeySpec>;

/** The value a validated key holds (checkValue makes a lone string a list). */
export type ConfigValue<S extends ConfigKeySpec> = S extends { type: 'string' }
  ? string
  : S extends { type: 'number' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { type: 'string[]' }
        ? readonly string[]
        : S extends { type: 'argv[]' }
          ? readonly (readonly string[])[]
          : S extends { type: 'enum'; values: readonly (infer V)[] }
            ? V
            : S extends { type: 'section[]'; keys: infer K extends ConfigKeys }
              ? readonly ConfigOf<K>[]
              : S extends { type: 'mapping' }
                ? Readonly<Record<string, unknown>>
                : never;

/**
 * A validated section typed from its key specs. Every key is optional: nothing fills in a value
 * the files and the environment did not give (each service states its own default).
 */
export type ConfigOf<K extends ConfigKeys> = { readonly [P in keyof K]?: ConfigValue<K[P]> };

export const compressions = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof compressions)[number];

/** Keys valid at the top level of a config file, and in every built-in service section. */
export const globalKeys: Record<string, ConfigKeySpec> = {
  destination: { type: 'string', describe: 'destination pattern (strftime, {service}, {host})' },
  compression: { type: 'enum', values: compressions, describe: 'compression of built-in artifacts' },
  compression_level: { type: 'number', min: 1, max: 19, integer: true, describe: 'compression level (zstd 1-19, gzip 1-9)' },
  concurrency: { type: 'number', min: 1, integer: true, describe: 'how many services/targets run at once' },
  bundle: { type: 'boolean', describe: "also write the run's artifacts as one tar with its own SHA-256 file" },
  timeout: { type: 'string', describe: 'stop an item (its dump killed, the item failed) that runs longer than this: 90s, 30m, 2h, 1d [none]' },
  stall_timeout: { type: 'string', describe: 'stop an item that sends no new bytes for this long (a dump waiting on a lock): 90s, 30m, 2h [none]' },
  lock_wait: { type: 'number', min: 0, integer: true, describe: 'seconds a run waits for another batt run on this home to finish; 0 skips at once with exit 75 [0]' },
  schedule: { type: 'string', describe: 'when `batt schedule --print` runs batt: HH:MM, daily, hourly, weekly, or a systemd OnCalendar expression [03:00]' },
  max_age: {
    type: 'string',
    describe: "`batt serve` shows a target as late when its last good backup is older than this: 26h, 2d [the schedule's period and a quarter: 30h for daily]",
  },
  storage: { type: 'section[]', keys: storageKeys(), describe: 'where each artifact is copied after it is written locally (docs/storage.md)' },
  keep_local: {
    type: 'boolean',
    describe: 'false: stream each artifact straight to the first storage, with no local copy (for hosts short of disk; docs/storage.md) [true]',
  },
  encryption: {
    type: 'mapping',
    keys: {
      age_recipients: { type: 'string[]', words: true, describe: 'encrypt built-in artifacts to these age public keys (age1…)' },
      gpg_recipients: { type: 'string[]', words: true, describe: "encrypt built-in artifacts to these gpg keys (key id or fingerprint, in batt's keyring)" },
    },
    describe: 'encrypt artifacts to public keys: age_recipients or gpg_recipients (docs/encryption.md)',
  },
  ...retentionKeys(),
  notify: notifyKeys,
  metrics_file: { type: 'string', describe: 'write a Prometheus textfile here after each backup and verify run (docs/metrics.md)' },
  serve: {
    type: 'mapping',
    prefixed: true,
    describe: '`batt serve` (docs/serve.md)',
    keys: { token_file: { type: 'string', describe: 'a 0600 file holding the token every request must send (required to listen beyond loopback); or BATT_SERVE_TOKEN' } },
  },
  log: {
    type: 'mapping',
    prefixed: true,
    describe: 'where else the run is told (docs/usage.md#the-log)',
    keys: { syslog: { type: 'boolean', describe: "send each backup run's summary to syslog (the journal) through logger(1) [false]" } },
  },
  hooks: {
    type: 'mapping',
    prefixed: true,
    describe: 'commands run before and after the backup (argv lists, no shell); top level for the run, in a service section for that service (docs/hooks.md)',
    keys: {
      before: { type: 'argv[]', describe: 'before the first dump; one that fails skips the run (or the service) and fails its items' },
      after: { type: 'argv[]', describe: 'after the last item, whatever happened' },
      on_failure: { type: 'argv[]', describe: 'after the last item, when one failed' },
      timeout: { type: 'string', describe: 'a hook still running after this is stopped and counts as failed: 90s, 10m [5m]' },
    },
  },
};

/** One entry of `storage:`: an S3 bucket, an rclone remote or another local folder (docs/storage.md). */
function storageKeys() {
  return {
    name: { type: 'string', describe: 'the name shown in `batt show` and the catalog, e.g. offsite' },
    type: { type: 'enum', values: ['s3', 'rclone', 'local'], describe: 'what kind of storage' },
    required: { type: 'boolean', describe: 'a run is ok only when this copy is confirmed [true]' },
    prefix: { type: 'string', describe: 'where below the storage the backups go: strftime and {host}, like destination' },
    bucket: { type: 'string', describe: 's3: the bucket' },
    endpoint: { type: 'string', describe: 's3: the server URL; omit for AWS' },
    region: { type: 'string', describe: 's3: the region [us-east-1]' },
    force_path_style: { type: 'boolean', describe: 's3: path-style URLs (most S3-compatible servers)' },
    access_key_id: { type: 'string', describe: "s3: the access key id; omit to use the AWS SDK's credential chain" },
    secret_access_key_file: { type: 'string', describe: 's3: a 0600 file holding the secret access key' },
    remote: { type: 'string', describe: 'rclone: the remote, e.g. "myswift:backups/{host}"' },
    rclone_config: { type: 'string', describe: "rclone: the rclone.conf to use [rclone's own]" },
    path: { type: 'string', describe: 'local: the folder (another disk, a mount)' },
  } as const satisfies ConfigKeys;
}

/** One validated entry of `storage:`. */
export type StorageConfig = ConfigOf<ReturnType<typeof storageKeys>>;

/** Keep rules and the suspect threshold: at the top level, and per service (a service's keep_* replace the top level's). */
function retentionKeys(): Record<string, ConfigKeySpec> {
  const count = (what: string): ConfigKeySpec => ({ type: 'number', min: 1, integer: true, describe: `prune keeps ${what}` });
  return {
    keep_last: count('the N newest good backups of each target'),
    keep_hourly: count('the newest good backup of each of the last N hours that have one'),
    keep_daily: count('the newest good backup of each of the last N days that have one'),
    keep_weekly: count('the newest good backup of each of the last N ISO weeks that have one'),
    keep_monthly: count('the newest good backup of each of the last N months that have one'),
    keep_yearly: count('the newest good backup of each of the last N years that have one'),
    keep_within: { type: 'string', describe: 'prune keeps every good backup younger than this age, e.g. 30d, 12h, 2w, 6m, 1y' },
    require_verified: { type: 'boolean', describe: 'only backups that passed `batt verify` count as good for retention' },
    suspect_below: { type: 'number', min: 0, max: 1, describe: 'a backup smaller (or with fewer rows) than this fraction of the previous ones is suspect; 0 turns it off [0.5]' },
  };
}

export const retentionKeyNames = Object.keys(retentionKeys());

/** Keys every service section accepts besides its own. */
export const serviceCommonKeys: Record<string, ConfigKeySpec> = {
  compression: globalKeys.compression,
  compression_level: globalKeys.compression_level,
  destination: globalKeys.destination,
  storage: globalKeys.storage,
  keep_local: globalKeys.keep_local,
  encryption: globalKeys.encryption,
  timeout: globalKeys.timeout,
  stall_timeout: globalKeys.stall_timeout,
  max_age: globalKeys.max_age,
  hooks: globalKeys.hooks,
  ...retentionKeys(),
};

function expected(spec: ConfigKeySpec): string {
  if (spec.type === 'enum') return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (spec.type === 'string[]') return spec.values ? `a list of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}` : 'a list of strings';
  if (spec.type === 'argv[]') return 'a command as a list of strings ([umount, /mnt/snap]), or a list of such commands';
  if (spec.type === 'section[]') return 'a list of mappings';
  if (spec.type === 'mapping') return `a mapping with ${Object.keys(spec.keys).join(' or ')}`;
  if (spec.type === 'number') {
    const kind = spec.integer ? 'a whole number' : 'a number';
    if (spec.min !== undefined && spec.max !== undefined) return `${kind} from ${spec.min} to ${spec.max}`;
    if (spec.min !== undefined) return `${kind} of at least ${spec.min}`;
    return kind;
  }
  return `a ${spec.type}`;
}

/** Checks (and, for list keys, normalises) one value; throws CONFIG naming key and source. */
export function checkValue(spec: ConfigKeySpec, value: unknown, key: string, source: string): unknown {
  const fail = (): never => {
    const got = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
    throw new BattError('CONFIG', `${source}: "${key}" must be ${expected(spec)}, got ${shortened(got)}`, {
      hint: `${key}: ${spec.describe}`,
    });
  };
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' && value !== '' ? value : fail();
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'number':
      return typeof value === 'number' &&
        Number.isFinite(value) &&
        value >= (spec.min ?? -Infinity) &&
        value <= (spec.max ?? Infinity) &&
        (!spec.integer || Number.isInteger(value))
        ? value
        : fail();
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value) ? value : fail();
    case 'string[]': {
      const list: unknown = typeof value === 'string' && value !== '' ? [value] : value;
      return Array.isArray(list) && list.every((v) => typeof v === 'string' && v !== '' && (!spec.values || spec.values.includes(v))) ? list : fail();
    }
    case 'argv[]': {
      const isArgv = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string') && v[0] !== '';
      if (isArgv(value)) return [value];
      return Array.isArray(value) && value.every(isArgv) ? value : fail();
    }
    case 'section[]':
      return Array.isArray(value) ? value.map((entry, i) => checkSection(spec.keys, entry, `${key}[${i}]`, source)) : fail();
    case 'mapping':
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? checkSection(spec.keys, value, key, source) : fail();
  }
}

/** Validates an object against key specs; unknown keys are errors that list the known ones. */
export function checkSection(specs: Record<string, ConfigKeySpec>, section: unknown, where: string, source: string): Record<string, unknown> {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw new BattError('CONFIG', `${source}: "${where}" must be a mapping of keys to values, got ${shortened(String(JSON.stringify(section)))}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    const spec = specs[key];
    const path = where ? `${where}.${key}` : key;
    if (!spec) {
      const guess = didYouMean(key, Object.keys(specs));
      throw new BattError('CONFIG', `${source}: unknown key "${path}"${guess ? `: did you mean "${where ? `${where}.` : ''}${guess}"?` : ''}`, {
        hint: `valid keys${where ? ` in "${where}"` : ''}: ${Object.keys(specs).sort().join(', ')}`,
      });
    }
    out[key] = checkValue(spec, value, path, source);
  }
  return out;
}
