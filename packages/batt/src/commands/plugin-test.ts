/**
 * `batt plugin test <service>`: the conformance suite the built-in services pass in batt's own
 * tests (test/lib/conformance.ts), as a command a user runs against their own server or their
 * own drop-in script pair. Each step runs the real `batt` in a scratch home (plugin-scratch.ts):
 * back up, verify, restore drill, restore into a new target, compare, refuse to restore over
 * existing data, refuse a damaged artifact. Docs: docs/scripts.md, "Testing a service".
 *
 * Longer than 200 lines because the seven steps are one story, each using what the one before
 * made (the run, the restored target); the scratch world and the restore targets are in plugin-scratch.ts.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import chalk from 'chalk';
import { counted } from '@batt/core/restore/select';
import { createLogger, ExitCode, pluginContext, type Check } from '@batt/core';
import type { App } from '../app.js';
import { appSecrets, loadAppConfig, onInterrupt } from './common.js';
import { destination, makeScratch, pickRestorable, subjectOf, type Destination, type Scratch, type Subject } from './plugin-scratch.js';
import { out, printJson, Safe } from '../output.js';

export interface PluginTestArgs {
  subject: string;
  targets: string[];
  into?: string;
  keep: boolean;
  config?: string;
  json: boolean;
  quiet: boolean;
}

type Status = 'ok' | 'failed' | 'skipped';
export interface Step {
  step: string;
  status: Status;
  detail: string;
}

interface Batt {
  code: number;
  stdout: string;
  stderr: string;
}

/** The last line of a command's stderr: batt's one-line message. */
const why = (r: Batt): string => r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' | ') || `exit ${r.code}`;
const lastJson = (text: string): any => JSON.parse(text.trim().split('\n').pop()!);

export async function pluginTestCommand(app: App, args: PluginTestArgs): Promise<number> {
  const subject = subjectOf(app, args.subject);
  const config = await loadAppConfig(app, { config: args.config, quiet: true });
  const secrets = appSecrets(config);
  const interrupt = onInterrupt('the test is stopped and its scratch folder removed');
  const ctx = pluginContext({ config, log: createLogger({ console: 'none', secrets }), signal: interrupt.signal, home: app.home }, subject.name, 0);
  const scratch = await makeScratch(app, subject, args.config);
  const battBin = resolve(process.argv[1]);
  const batt = async (...argv: string[]): Promise<Batt> => {
    const { execa } = await import('execa');
    // No secret is on these command lines: the children read them from the scratch config or the environment.
    const r = await execa(process.execPath, [battBin, '--home', scratch.home, '--config', scratch.config, ...argv], {
      env: scratch.env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      cancelSignal: interrupt.signal,
      cleanup: true,
    });
    return { code: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const steps: Step[] = [];
  const say = (step: string, status: Status, detail: string): boolean => {
    steps.push({ step, status, detail });
    if (!args.json && (!args.quiet || status === 'failed')) {
      const mark = status === 'ok' ? chalk.green('ok     ') : status === 'failed' ? chalk.red('FAILED ') : chalk.yellow('skipped');
      out`${new Safe(mark)}  ${step.padEnd(9)} ${detail}\n`;
    }
    return status !== 'failed';
  };
  const made: Destination[] = [];
  try {
    if (!args.json && !args.quiet) out`testing ${subject.plugin ? `the ${subject.name} service` : `the drop-in script ${subject.script}`} in ${scratch.dir}\n`;
    await runSteps({ subject, args, scratch, batt, say, made, destinationOf: (name) => destination(subject, scratch, ctx, name) });
  } finally {
    interrupt.release();
    if (args.keep) {
      if (!args.json) out`kept: the scratch home and backups in ${scratch.dir}${made.length ? `; restored into ${made.map((d) => d.value).join(', ')}` : ''}\n`;
    } else {
      for (const d of made) await d.remove().catch(() => {});
      const left = made.filter((d) => d.flag === '--into' && subject.plugin && !subject.plugin.removeRestored && d.value !== args.into);
      if (left.length && !args.json) out`note: the ${subject.name} service cannot remove what a restore made: drop ${left.map((d) => d.value).join(', ')} yourself\n`;
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  }
  if (interrupt.signal.aborted) throw interrupt.signal.reason;
  const failed = steps.filter((s) => s.status === 'failed');
  if (args.json) printJson({ service: subject.name, ok: failed.length === 0, steps });
  else if (!args.quiet)
    out`${failed.length ? `${failed.length} of ${steps.length} steps failed` : `passed: ${steps.filter((s) => s.status === 'ok').length} steps ok, ${steps.filter((s) => s.status === 'skipped').length} skipped`}\n`;
  return failed.length ? ExitCode.failed : ExitCode.ok;
}

interface Run {
  subject: Subject;
  args: PluginTestArgs;
  scratch: Scratch;
  batt(...argv: string[]): Promise<Batt>;
  say(step: string, status: Status, detail: string): boolean;
  /** Restore destinations made, removed at the end (unless --keep). */
  made: Destination[];
  destinationOf(name: string): Destination;
}

async function runSteps(t: Run): Promise<void> {
  const { subject, args, batt, say } = t;
  const { plugin, name } = subject;
  const targetFlag = `--${plugin ? plugin.targetOption.name : `${name}-db`}`;

  // 1. Back up.
  const b = await batt(name, ...args.targets.flatMap((target) => [targetFlag, target]), '--path', t.scratch.destination, '--json');
  const report = b.stdout.trim() ? lastJson(b.stdout) : undefined;
  if (b.code !== 0 || report?.status !== 'ok') {
    const failedItem = report?.items?.find((i: any) => i.status !== 'ok');
    say('backup', 'failed', failedItem ? `${failedItem.target}: ${failedItem.error}` : why(b));
    return;
  }
  const run: number = report.id;
  const shown = JSON.parse((await batt('show', String(run), '--json')).stdout);
  const items: any[] = shown.items;
  const problems: string[] = [];
  for (const item of items) {
    if (!item.file || !existsSync(item.file)) problems.push(`${item.target}: no file`);
    else if ((statSync(item.file).mode & 0o777) !== 0o600) problems.push(`${item.file} is not 0600`);
    else if ((statSync(dirname(item.file)).mode & 0o777) !== 0o700) problems.push(`${dirname(item.file)} is not 0700`);
    if (plugin && !Object.keys(item.facts ?? {}).length && !item.toolVersion) problems.push(`${item.target}: nothing recorded about the dump (no facts, no tool version)`);
  }
  const bytes = items.reduce((sum, i) => sum + (i.bytes ?? 0), 0);
  if (
    !say(
      'backup',
      problems.length ? 'failed' : 'ok',
      problems.join('; ') ||
        `run ${run}: ${counted(items.length, 'item')}, ${bytes} bytes, checksummed, 0600${plugin ? `, facts recorded for ${items.filter((i) => Object.keys(i.facts ?? {}).length).length}` : ''}`,
    )
  )
    return;

  // 2. Verify: SHA-256, SHA256SUMS, the format's own completeness checks.
  const v = await batt('verify', String(run), '--json');
  const outcomes: any[] = v.stdout.trim() ? JSON.parse(v.stdout) : [];
  const checkNames = [...new Set(outcomes.flatMap((o) => o.checks.map((c: Check) => c.name)))];
  say('verify', v.code === 0 && outcomes.length === items.length ? 'ok' : 'failed', v.code === 0 ? `${counted(outcomes.length, 'artifact')}: ${checkNames.join(', ')}` : why(v));

  // 3. The restore drill.
  if (!plugin?.restoreTest) say('drill', 'skipped', plugin ? `the ${name} service has no restore drill` : 'drop-in scripts have no restore drill: the restore below is the drill');
  else {
    const d = await batt('verify', String(run), '--restore-test', '--json');
    const drills = d.stdout.trim() ? JSON.parse(d.stdout).filter((o: any) => o.kind === 'restore-test') : [];
    say('drill', d.code === 0 && drills.length > 0 ? 'ok' : 'failed', d.code === 0 ? `${counted(drills.length, 'backup')} restored into a scratch target and compared` : why(d));
  }

  // 4. Restore into a new target, 5. compare.
  const item = pickRestorable(subject, items, args.into);
  if (!item) {
    for (const step of ['restore', 'compare', 'refuse', 'damaged'])
      say(step, 'skipped', `no backup of the ${name} service restores into a new name by itself: give --into (for redis, host:port of an empty scratch server)`);
    return;
  }
  const stamp = Date.now().toString(36);
  const into = args.into ? { ...t.destinationOf(args.into), remove: async () => {} } : t.destinationOf(`batt_plugin_test_${stamp}`);
  const restoreArgs = (to: Destination, ...more: string[]): string[] => ['restore', String(run), name, ...(plugin ? ['--target', item.target] : []), to.flag, to.value, ...more];
  if (await into.exists()) {
    say('restore', 'failed', `${into.value} exists already: give --into a new name`);
    return;
  }
  t.made.push(into);
  const r = await batt(...restoreArgs(into));
  const restored = JSON.parse((await batt('show', String(run), '--json')).stdout).items.find((i: any) => i.id === item.id);
  const check = restored.checks.find((c: any) => c.kind === 'restore' && c.status === 'ok');
  const what = plugin ? item.target : `the run's ${counted(items.length, 'file')}`;
  if (!say('restore', r.code === 0 && check && (await into.exists()) ? 'ok' : 'failed', r.code === 0 ? `${what} into ${into.value}` : why(r))) return;
  const details: Check[] = check.details ?? [];
  if (!plugin) say('compare', 'skipped', `a drop-in script records no facts to compare with: restore-${name} exiting 0 is its only check`);
  else say('compare', details.every((c) => c.ok) && details.length ? 'ok' : 'failed', details.map((c) => `${c.name}: ${c.detail}`).join('; '));

  // 6. Refuse to restore over it without --force, changing nothing.
  const before = into.picture();
  const again = await batt(...restoreArgs(into));
  const refused = plugin ? again.code === ExitCode.usage : again.code !== 0;
  const unchanged = into.picture() === before;
  say(
    'refuse',
    refused && unchanged ? 'ok' : 'failed',
    !refused
      ? `a second restore into ${into.value} without --force ${again.code === 0 ? 'went ahead' : `exited ${again.code}`}${plugin ? '' : `: restore-${name} must refuse existing data unless BATT_FORCE=1`}`
      : unchanged
        ? `refused (exit ${again.code})${into.picture() ? ' and nothing changed' : ''}`
        : `${into.value} changed although the restore was refused`,
  );

  // 7. A damaged artifact is refused before anything is touched, and verify fails it.
  const bytes2 = readFileSync(item.file);
  bytes2[Math.floor(bytes2.length / 2)] ^= 0xff;
  writeFileSync(item.file, bytes2);
  const fresh = args.into ? into : t.destinationOf(`batt_plugin_test_${stamp}_d`);
  if (fresh !== into) t.made.push(fresh);
  const picture = fresh.picture();
  const damaged = await batt(...restoreArgs(fresh, '--force'));
  const untouched = fresh === into ? fresh.picture() === picture : !(await fresh.exists());
  const caught = damaged.code === ExitCode.failed && /SHA-256/.test(damaged.stderr) && untouched;
  const reverify = await batt('verify', String(run), '--json');
  say(
    'damaged',
    caught && reverify.code === ExitCode.failed ? 'ok' : 'failed',
    !caught
      ? `a restore of an artifact with one flipped byte ${untouched ? `exited ${damaged.code}` : `changed ${fresh.value}`}: ${why(damaged)}`
      : reverify.code !== ExitCode.failed
        ? `verify exited ${reverify.code} on a damaged artifact`
        : 'a flipped byte is refused by restore and failed by verify',
  );
}
