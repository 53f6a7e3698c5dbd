#!/usr/bin/env node
// batt's postgresql service against the plain pipe, in the same run on one private PostgreSQL
// started here (test/lib/servers.ts's startPostgres: initdb as the user postgres into a temporary
// folder, the server on a free loopback port with its socket folder in that temporary folder;
// never the machine's own server). The pipe is what batt runs, by hand: pg_dump in the custom
// format, uncompressed (`--format=custom --compress=0`, packages/postgresql/src/args.ts), into
// `zstd -3 -T0` (batt's default compression), with the SHA-256 batt also takes:
//   pg_dump -Fc -Z0 X | zstd -3 -T0 | tee X.dump.zst | sha256sum
// (the same binary pg_dump batt runs: /usr/lib/postgresql/<version>/bin/pg_dump, not Debian's
// Perl wrapper, which batt steps over when the connection names host and port).
//   1. one database of N MB of pg_dump output (default 300): batt --postgresql-db X vs the pipe
//                                                                target: <= 1.05x the pipe's time
//   2. the fixed cost: a one-row database, batt minus the pipe   (for information)
// batt also reads the archive with pg_restore beside the compressor and counts each table's rows
// in it (docs/services/postgresql.md, "Failures"): part of what this measures.
// Usage: node test/bench/postgresql.mjs [--mb N] [--rounds N] [--quick] [--result FILE]
//   (--quick: 30 MB, 1 round; --result FILE: also append the figures to FILE as JSON lines, for
//   test/bench/all.mjs). The server is stopped and its folder removed at the end, also on error.
// Exits 0 whether or not the target is met.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cliArgs, median, resultOptions, row, timeRow, writeResults } from './results.mjs';

const repo = resolve(import.meta.dirname, '..', '..');
const { values: opts } = parseArgs({ args: cliArgs(), options: { mb: { type: 'string' }, rounds: { type: 'string' }, ...resultOptions } });
const quick = Boolean(opts.quick);
const mb = Number(opts.mb ?? (quick ? 30 : 300));
const rounds = Number(opts.rounds ?? (quick ? 1 : 3));
const tinyRounds = Math.max(rounds, 5);
const { startPostgres, postgresBin } = await import(join(repo, 'test', 'dist', 'lib', 'servers.js'));
const batt = join(repo, 'packages', 'batt', 'bin', 'batt.js');
const work = join(repo, '.bench', 'postgresql');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const pg = await startPostgres();
// Interrupted (Ctrl-C, or the runner stopped), the server goes too, and its folder with it.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => pg.stop().finally(() => process.exit(130)));
try {
  // ~254 bytes of archive per row (measured: 1,132,075 rows made a 287 MB archive; its size is printed).
  const rows = Math.round((mb * 1e6) / 254);
  console.error(`generating a database of ~${mb} MB (${rows.toLocaleString('en')} rows) and a one-row database ...`);
  for (const [name, n] of [
    ['bench', rows],
    ['tiny', 1],
  ]) {
    await pg.sql(`CREATE DATABASE ${name}`);
    await pg.sql(
      `CREATE TABLE events (id BIGINT PRIMARY KEY, user_id INT, kind VARCHAR(20), payload TEXT, amount NUMERIC(12,2), created TIMESTAMP);
      INSERT INTO events SELECT g, g % 9973, (ARRAY['click', 'view', 'buy', 'signup', 'logout'])[1 + g % 5],
        concat(md5(g::text), ' ', md5((g * 3)::text), repeat(chr(65 + (g % 26)::int), 40), ' ', md5((g * 7)::text), ' ', encode(sha256(g::text::bytea), 'hex')),
        (g % 100000) / 100.0, timestamp '2020-01-01' + (g % 31536000) * interval '1 second' FROM generate_series(1, ${n}) g`,
      name,
    );
    await pg.sql('VACUUM (FREEZE, ANALYZE) events', name); // no hint bits left for the first dump to set
  }

  const pgDump = postgresBin('pg_dump');
  const info = (db) => `host=127.0.0.1 port=${pg.port} user=postgres dbname=${db}`;
  const env = {
    ...process.env,
    BATT_POSTGRESQL_HOST: '127.0.0.1',
    BATT_POSTGRESQL_PORT: String(pg.port),
    BATT_POSTGRESQL_USER: 'postgres',
    BATT_POSTGRESQL_PASSWORD: pg.password,
    PGPASSWORD: pg.password,
  };
  const home = join(work, 'home');
  const out = (n) => {
    const d = join(work, `out${n}`);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    return d;
  };
  const time = (cmd, args) => {
    // Each command starts with the earlier ones' files on disk: batt fsyncs what it writes, and
    // under ext4's ordered mode it would otherwise pay for writing out the pipe's file too.
    execFileSync('sync');
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const pipe = (db, dir) => [
    'bash',
    ['-c', `set -o pipefail; "${pgDump}" --format=custom --compress=0 --no-password --dbname="${info(db)}" | zstd -3 -T0 -q | tee "${dir}/${db}.dump.zst" | sha256sum > /dev/null`],
  ];
  const battRun = (db, dir) => [process.execPath, [batt, '--home', home, '-q', '--postgresql-db', db, '--path', dir]];

  // The archive's size (and a warm page cache and catalog for both sides alike).
  const archiveBytes = Number(
    execFileSync('bash', ['-c', `set -o pipefail; "${pgDump}" --format=custom --compress=0 --no-password --dbname="${info('bench')}" | wc -c`], { env })
      .toString()
      .trim(),
  );
  // batt's first run in a home makes the home and its catalog: not what is measured.
  time(...battRun('tiny', out('warm')));

  const t = { pipe: [], batt: [], pipeTiny: [], battTiny: [] };
  for (let i = 0; i < rounds; i++) {
    t.pipe.push(time(...pipe('bench', out(1))));
    t.batt.push(time(...battRun('bench', out(2))));
  }
  for (let i = 0; i < tinyRounds; i++) {
    t.pipeTiny.push(time(...pipe('tiny', out(3))));
    t.battTiny.push(time(...battRun('tiny', out(4))));
  }
  const compressed = statSync(join(work, 'out1', 'bench.dump.zst')).size;
  const result = {
    server: (await pg.sql('SHOW server_version')).trim(),
    pg_dump: pgDump,
    quick,
    rounds,
    one_db: {
      rows,
      archive_bytes: archiveBytes,
      compressed_bytes: compressed,
      pipe_s: median(t.pipe),
      batt_s: median(t.batt),
      ratio: median(t.batt) / median(t.pipe),
      target: '<= 1.05',
      rounds: { pipe_s: t.pipe, batt_s: t.batt },
    },
    fixed_cost: {
      rounds: tinyRounds,
      one_row_db_pipe_s: median(t.pipeTiny),
      one_row_db_batt_s: median(t.battTiny),
      batt_minus_pipe_s: median(t.battTiny) - median(t.pipeTiny),
    },
  };
  console.log(JSON.stringify(result, null, 2));

  const { one_db: one, fixed_cost: fixed } = result;
  writeResults(opts.result, [
    timeRow('postgresql', `1 database, pg_dump archive ${(archiveBytes / 1e6).toFixed(0)} MB: batt vs pg_dump -Fc -Z0 | zstd -3 -T0 | tee >(sha256sum)`, {
      seconds: one.batt_s,
      reference: one.pipe_s,
      ratio: one.ratio,
      max: 1.05,
    }),
    row('postgresql', `fixed cost: a one-row database, batt minus the pipe (batt ${fixed.one_row_db_batt_s.toFixed(2)} s)`, {
      figure: fixed.batt_minus_pipe_s,
      unit: 's',
      reference: `${fixed.one_row_db_pipe_s.toFixed(2)} s`,
    }),
  ]);
} finally {
  await pg.stop();
  rmSync(work, { recursive: true, force: true });
}
