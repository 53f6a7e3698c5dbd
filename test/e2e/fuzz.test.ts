/**
 * A bounded fuzz of the command line (docs/security.md, "Hostile input is bounded"): random configurations (YAML and JSON
 * of random shapes and types, nesting, unknown keys, aliases, garbage), random environment
 * values and random flag sets (repeated, missing values, odd values, unknown flags) thrown at
 * the real binary. Seeded, so a failure replays: BATT_FUZZ_SEED=<seed> reruns the same cases
 * (BATT_FUZZ_CASES=<n> runs more of them, for a longer search).
 * Every case must end within a time bound, with an exit code batt documents, no stack trace, no
 * "internal error", and no raw control character in what it prints. Only small folders of the
 * sandbox are ever backed up, and only there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '@batt/core/errors/errors';
import { type Sandbox, sandbox } from '../lib/batt.js';

const seed = Number(process.env.BATT_FUZZ_SEED) || 0x5eed13;
const CASES = Number(process.env.BATT_FUZZ_CASES) || 60;
/** Per case: a batt that takes longer is stuck on its input. */
const BOUND_MS = 15_000;
const documented = new Set<number>(Object.values(ExitCode));

const rawControl = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** mulberry32: small, seeded, good enough to pick cases. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(
    readonly random: () => number,
    readonly dir: string,
    readonly folders: string[],
  ) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }
  chance(p: number): boolean {
    return this.random() < p;
  }

  /** A word that is never a path outside the sandbox: it starts with a letter and holds no slash. */
  word(): string {
    const chars = 'abcxyz019_-.%{}:@ \\"\'#&*!|>é字\u202e\n\r\t\x1b[';
    let w = this.pick(['a', 'db', 'file', 'x', 'zstd', 'gzip', 'ok']);
    for (let i = this.int(8); i > 0; i--) w += chars[this.int(chars.length)];
    return w;
  }
  string(): string {
    return this.pick([
      () => this.word(),
      () => '',
      () => this.pick(this.folders),
      () => join(this.dir, 'fz', this.word().replace(/\//g, '_'), '%Y/%m/{service}'),
      () => join(this.dir, 'fz', '%Q', '{nope}'),
      () => this.pick(['zstd', 'gzip', 'none', 'lz4', '30d', '12h', 'abc', '1', '0', '-1', '1e999', 'NaN', 'true', 'yes']),
      () => 'x'.repeat(this.pick([100, 5000])),
      () => `ok\n${'batt: run 99 ok'}\x1b[31m`,
    ])();
  }
  scalar(): unknown {
    return this.pick([
      () => this.string(),
      () => this.int(40) - 5,
      () => this.random() * 100,
      () => this.pick([0, -1, 1e308, 2 ** 53 + 1, 0.5]),
      () => this.chance(0.5),
      () => null,
    ])();
  }
  key(): string {
    return this.pick(
      [
        'destination',
        'compression',
        'compression_level',
        'concurrency',
        'bundle',
        'keep_last',
        'keep_daily',
        'keep_within',
        'require_verified',
        'suspect_below',
        'file',
        'mysql',
        'postgresql',
        'redis',
        'mongodb',
        'paths',
        'exclude',
        'one_file_system',
        'host',
        'port',
        'password',
        'password_file',
        'databases',
        'nosuchkey',
        '',
        '__proto__',
        'constructor',
        'toString',
        '<<',
      ].concat([this.word()]),
    );
  }
  value(depth: number): unknown {
    if (depth <= 0 || this.chance(0.4)) return this.scalar();
    if (this.chance(0.4)) return Array.from({ length: this.int(4) }, () => this.value(depth - 1));
    return Object.fromEntries(Array.from({ length: this.int(5) }, () => [this.key(), this.value(depth - 1)]));
  }
  /** A configuration of batt's rough shape: mostly known keys, some of the wrong type, some unknown. */
  config(): Record<string, unknown> {
    const c: Record<string, unknown> = {};
    for (let i = this.int(5); i > 0; i--) c[this.key()] = this.value(this.pick([1, 2, 3, 5]));
    if (this.chance(0.3)) c.file = { paths: [this.pick(this.folders)], exclude: this.chance(0.5) ? ['*.log'] : this.value(2) };
    return c;
  }
}

/** YAML in flow style (JSON is YAML), with anchors, aliases, merge keys and YAML's own scalars. */
function yaml(g: Gen, value: unknown, anchors: string[]): string {
  if (value !== null && typeof value === 'object') {
    const body = Array.isArray(value)
      ? `[${value.map((v) => yaml(g, v, anchors)).join(', ')}]`
      : `{${Object.entries(value)
          .map(([k, v]) => `${k === '<<' ? k : JSON.stringify(k)}: ${yaml(g, v, anchors)}`)
          .join(', ')}}`;
    if (g.chance(0.3)) {
      const name = `a${anchors.length}`;
      anchors.push(name);
      return `&${name} ${body}`;
    }
    return body;
  }
  if (anchors.length && g.chance(0.2)) return `*${g.pick(anchors)}`;
  if (g.chance(0.15))
    return g.pick([
      '.inf',
      '-.inf',
      '.nan',
      '~',
      'yes',
      'off',
      '0x1F',
      '0o17',
      '!!str 5',
      '!!binary aGk=',
      '2001-12-14t21:59:43.10-05:00',
      '!!js/function "x"',
      '!custom x',
      '"\\u0000"',
      '"\\e[31m"',
    ]);
  return JSON.stringify(value) ?? 'null';
}

/** A whole config file: JSON, YAML, YAML with a billion-laughs core, deep nesting, or garbage. */
function configText(g: Gen): { name: string; text: string } {
  const value = g.config();
  // A valid config now and then, so that cases get past it to the run, the catalog and the output.
  const valid = {
    destination: join(g.dir, 'fz', g.word().replace(/\//g, '_'), '{service}'),
    compression: g.pick(['zstd', 'gzip', 'none']),
    file: { exclude: ['*.log', g.word()] },
  };
  return g.pick([
    () => ({ name: 'v.json', text: JSON.stringify(valid) }),
    () => ({ name: 'v.yaml', text: yaml(g, valid, []) }),
    () => ({ name: 'c.json', text: JSON.stringify(value) }),
    () => ({ name: 'c.yaml', text: yaml(g, value, []) }),
    () => ({
      name: 'c.yml',
      text: `${Object.entries(value)
        .map(([k, v]) => `${JSON.stringify(k)}: ${yaml(g, v, [])}`)
        .join('\n')}\n`,
    }),
    () => {
      const n = g.pick([4, 7, 9]);
      const lines = [`l0: &l0 [${Array(n).fill('"lol"').join(', ')}]`];
      for (let i = 1; i <= n; i++)
        lines.push(
          `l${i}: &l${i} [${Array(n)
            .fill(`*l${i - 1}`)
            .join(', ')}]`,
        );
      return { name: 'laughs.yaml', text: `${lines.join('\n')}\nfile: {paths: *l${n}}\n` };
    },
    () => {
      const depth = g.pick([10, 30, 200, 20_000]);
      return g.chance(0.5)
        ? { name: 'deep.json', text: `${'{"file":'.repeat(depth)}1${'}'.repeat(depth)}` }
        : { name: 'deep.yaml', text: `${'['.repeat(depth)}${']'.repeat(depth)}\n` };
    },
    () => ({ name: g.pick(['g.yaml', 'g.json']), text: g.pick(['{', ': :', '\0\x01\x02', '- - -\n  x: [', '"unterminated', '\ufeff{}', '', '  \n', 'file: !!binary |\n  ???']) }),
  ])();
}

/**
 * A command and a random flag set for it: mostly its own flags (so that most cases get past the
 * parser to the config and the catalog), with repeats, missing and odd values, and now and then
 * a flag it does not take.
 */
function commandLine(g: Gen, config: string): string[] {
  const value = (): string => g.pick([() => g.string(), () => String(g.int(30) - 3), () => g.pick(['', '-', '--', '-1', '1.5', '1e999', 'NaN'])])();
  const run = (): string => g.pick(['latest', '1', '2', '0', '-1', '99999999999999999999', value()]);
  const backup: (() => string[])[] = [
    () => ['--file', g.pick(g.folders)],
    () => ['--file', g.pick(g.folders)],
    () => ['--path', g.pick([join(g.dir, 'fz', '%Y', '{service}'), join(g.dir, 'fz', '%Q'), join(g.dir, 'fz', value().replace(/^\/+/, ''))])],
    () => ['-p', join(g.dir, 'fz2')],
    () => ['--compression', g.pick(['zstd', 'gzip', 'none', 'lz4', value()])],
    () => ['--compression-level', value()],
    () => ['-j', value()],
    () => ['--bundle'],
    () => ['--suspect-ok'],
    () => [g.pick(['file', 'nosuchservice', value()])],
  ];
  const commands: [string[], (() => string[])[]][] = [
    [[], backup],
    [[], backup],
    [[], backup],
    [['runs'], [() => ['--last', value()], () => ['--status', g.pick(['ok', 'failed', value()])], () => ['--service', g.pick(['file', value()])]]],
    [['show', run()], []],
    [['list'], [() => [g.pick(['all', 'enabled', value()])]]],
    [
      ['catalog', g.pick(['check', 'check', 'rebuild', value()])],
      [() => ['--quick'], () => ['--any-host'], () => [g.pick(g.folders)]],
    ],
    [['verify'], [() => [run()], () => ['--all'], () => ['--since', value()], () => ['--service', value()], () => ['--target', value()]]],
    [
      ['prune', '--dry-run'],
      [() => ['--keep-last', value()], () => ['--keep-within', value()], () => ['--keep-daily', value()], () => [g.pick(['file', value()])]],
    ],
    [
      ['accept', run()],
      [() => ['--target', value()], () => ['file']],
    ],
    [
      ['restore', run(), '--dry-run'],
      [() => ['--target', value()], () => ['--to', join(g.dir, 'fz-restore')], () => ['--into', value()]],
    ],
  ];
  const [command, own] = g.pick(commands);
  const common: (() => string[])[] = [
    () => ['--json'],
    () => ['--json'],
    () => ['-q'],
    () => ['-q'],
    () => (g.chance(0.5) ? ['--home', join(g.dir, 'home')] : ['--config', config]),
    () => [g.pick(['--fiel', '-x', '--no-json', '--json=maybe', '--path=', '--', '-', '--help'])],
    () => [g.pick(['--file', '--path', '--compression', '--config', '-j', '--last', '--since'])], // a value missing at the end
  ];
  // A backup is of a small folder of the case's, mostly: the other flags come on top.
  const out = command.length === 0 && g.chance(0.8) ? ['--file', g.pick(g.folders)] : [...command];
  for (let i = g.int(5); i > 0; i--) {
    const f = g.pick(own.length && g.chance(0.75) ? own : common)();
    out.push(...f);
    if (g.chance(0.15)) out.push(...f); // the same flag again
  }
  return out;
}

function environment(g: Gen): Record<string, string> {
  const env: Record<string, string> = {};
  const names = [
    'BATT_COMPRESSION',
    'BATT_CONCURRENCY',
    'BATT_COMPRESSION_LEVEL',
    'BATT_KEEP_LAST',
    'BATT_BUNDLE',
    'BATT_SUSPECT_BELOW',
    'BATT_FILE_EXCLUDE',
    'BATT_FILE_PATHS',
    'BATT_DESTINATION',
  ];
  for (let i = g.int(3); i > 0; i--) {
    const name = g.pick(names);
    // Never a path outside the sandbox: paths come from its own folders.
    const valid: Record<string, string> = {
      BATT_COMPRESSION: 'gzip',
      BATT_CONCURRENCY: '2',
      BATT_COMPRESSION_LEVEL: '5',
      BATT_KEEP_LAST: '3',
      BATT_BUNDLE: 'yes',
      BATT_SUSPECT_BELOW: '0.2',
      BATT_FILE_EXCLUDE: '*.log,x',
    };
    env[name] =
      name === 'BATT_FILE_PATHS' ? g.pick(g.folders) : name === 'BATT_DESTINATION' ? join(g.dir, 'fz-env', '%Y') : g.chance(0.5) ? valid[name] : g.string().replace(/\0/g, '');
  }
  return env;
}

describe(`fuzz: ${CASES} random configs, environments and flag sets (seed ${seed})`, () => {
  const lanes: Sandbox[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const box = sandbox();
      lanes.push(box);
      // One good run, so that show, verify, accept and restore have something to look at.
      const r = await box.batt(['--file', box.folder('seed', { a: 'a' }), '-q']);
      assert.equal(r.exitCode, 0, r.stderr);
    }
  });
  after(() => {
    for (const box of lanes) box.cleanup();
  });

  it('every case ends in time, with a documented exit code, no stack trace, no internal error, no raw control character', async (t) => {
    const random = prng(seed);
    // Cases are made up front, in order, so a seed always gives the same ones.
    const cases = Array.from({ length: CASES }, (_, n) => {
      const box = lanes[n % lanes.length];
      const caseDir = join(box.dir, `case-${n}`);
      const folders = [join(caseDir, 'small'), join(caseDir, 'small2'), join(caseDir, 'missing')];
      const g = new Gen(random, box.dir, folders);
      const conf = configText(g);
      // Most cases hand the config over with --config; the others put it where batt finds it (conf/).
      const inConf = g.chance(0.3);
      const confPath = inConf ? join(box.home, 'conf', conf.name.endsWith('.json') ? 'batt.config.json' : 'batt.config.yaml') : join(caseDir, conf.name);
      const args = [...commandLine(g, confPath), ...(inConf ? [] : ['--config', confPath])];
      return { n, box, caseDir, conf, confPath, inConf, args, env: environment(g) };
    });
    const failures: string[] = [];
    const exits = new Map<number, number>();
    const runLane = async (lane: Sandbox): Promise<void> => {
      for (const c of cases.filter((k) => k.box === lane)) {
        mkdirSync(join(c.caseDir, 'small'), { recursive: true });
        mkdirSync(join(c.caseDir, 'small2'), { recursive: true });
        writeFileSync(join(c.caseDir, 'small', 'f'), `case ${c.n}\n`);
        writeFileSync(join(c.caseDir, 'small2', 'g'), 'g\n');
        // In conf/ it takes the place of the sandbox's own config (its destination): put back after.
        const kept = c.inConf ? readFileSync(join(lane.home, 'conf', 'batt.config.yaml')) : undefined;
        writeFileSync(c.confPath, c.conf.text, { mode: 0o600 });
        const describeCase = `case ${c.n} (seed ${seed}): batt ${JSON.stringify(c.args)} env ${JSON.stringify(c.env)} config ${c.conf.name}: ${JSON.stringify(c.conf.text.slice(0, 300))}`;
        const started = Date.now();
        try {
          const r = await lane.batt(c.args, { env: c.env, timeout: BOUND_MS + 5_000 });
          const took = Date.now() - started;
          exits.set(r.exitCode, (exits.get(r.exitCode) ?? 0) + 1);
          if (took > BOUND_MS) failures.push(`${describeCase}: took ${took} ms`);
          if (!documented.has(r.exitCode)) failures.push(`${describeCase}: exit ${r.exitCode}\n${r.stderr}`);
          if (/internal error/i.test(r.stderr)) failures.push(`${describeCase}: ${r.stderr}`);
          const raw = rawControl.exec(r.stdout + r.stderr);
          if (raw)
            failures.push(
              `${describeCase}: raw control character ${JSON.stringify(raw[0])} in the output:\n${JSON.stringify((r.stdout + r.stderr).slice(Math.max(0, raw.index - 200), raw.index + 100))}`,
            );
        } catch (error) {
          failures.push(`${describeCase}: ${(error as Error).message}`);
        } finally {
          if (kept) {
            rmSync(c.confPath);
            writeFileSync(join(lane.home, 'conf', 'batt.config.yaml'), kept, { mode: 0o600 });
          }
        }
      }
    };
    await Promise.all(lanes.map(runLane));
    t.diagnostic(
      `exit codes: ${[...exits]
        .sort((a, b) => a[0] - b[0])
        .map(([code, n]) => `${code} × ${n}`)
        .join(', ')}`,
    );
    assert.deepEqual(failures, [], `${failures.length} of ${CASES} cases failed:\n\n${failures.join('\n\n')}`);
  });
});
