import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BattError } from '../errors/errors.js';
import { calendarOf, cronLine, cronTimeOf, shellArg, systemdArg, systemdUnits, type ScheduleRequest } from './units.js';

const request = (over: Partial<ScheduleRequest> = {}): ScheduleRequest => ({
  command: ['/usr/bin/node', '/usr/lib/batt/bin/batt.js', '--home', '/opt/batt'],
  schedule: undefined,
  unit: 'batt',
  user: undefined,
  home: '/opt/batt',
  ...over,
});

/** What cron does to its command field before /bin/sh reads it (Vixie cron's do_command): `\\%` → `%`, `\\\\` → `\\`. */
const cronUnescape = (command: string): string => command.replace(/\\([%\\])/g, '$1');

describe('schedule', () => {
  it('turns schedule: into OnCalendar= and cron fields', () => {
    const cases: [string | undefined, string, string][] = [
      [undefined, '*-*-* 03:00:00', '0 3 * * *'],
      ['3:30', '*-*-* 03:30:00', '30 3 * * *'],
      ['23:59', '*-*-* 23:59:00', '59 23 * * *'],
      ['hourly', 'hourly', '0 * * * *'],
      ['daily', 'daily', '0 0 * * *'],
      ['weekly', 'weekly', '0 0 * * 1'],
      ['monthly', 'monthly', '0 0 1 * *'],
      ['Mon..Fri *-*-* 02:30', 'Mon..Fri *-*-* 02:30', '30 2 * * 1-5'],
      ['Sat..Sun *-*-* 04:00:00', 'Sat..Sun *-*-* 04:00:00', '0 4 * * 6-7'],
      ['Sun,Wed *-*-* 1,13:05', 'Sun,Wed *-*-* 1,13:05', '5 1,13 * * 0,3'],
      ['*-*-* 00/6:00', '*-*-* 00/6:00', '0 0-23/6 * * *'],
      ['*-*-15 05:00', '*-*-15 05:00', '0 5 15 * *'],
    ];
    for (const [schedule, calendar, cron] of cases) {
      assert.equal(calendarOf(schedule), calendar, String(schedule));
      assert.equal(cronTimeOf(schedule), cron, String(schedule));
    }
  });

  it('refuses a time that is none, a control character, and a calendar cron cannot say', () => {
    const refused = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof BattError && e.code === 'CONFIG' && message.test(e.message));
    refused(() => calendarOf('24:00'), /no time of day/);
    refused(() => calendarOf('03:00\nExecStartPre=/bin/evil'), /control character/);
    refused(() => cronTimeOf('*-*-* 03:00:30'), /no cron form/);
    refused(() => cronTimeOf('2030-01-01 03:00'), /no cron form/);
    refused(() => cronTimeOf('Funday *-*-* 03:00'), /no weekday/);
    assert.equal(calendarOf('2030-01-01 03:00'), '2030-01-01 03:00', 'systemd takes it as it is');
  });

  it('quotes ExecStart= arguments the way systemd reads them', () => {
    assert.equal(systemdArg('/opt/batt'), '/opt/batt');
    assert.equal(systemdArg('/srv/my backups'), '"/srv/my backups"');
    assert.equal(systemdArg('/srv/100%'), '/srv/100%%');
    assert.equal(systemdArg('/srv/$HOME "x" \\y'), '"/srv/$$HOME \\"x\\" \\\\y"');
    assert.throws(() => systemdArg('/srv/a\nb'), /control character/);
  });

  it('quotes a cron command so that cron and /bin/sh hand batt each argument as it was', () => {
    const args = ['/opt/my batt', "it's", '100%', 'back\\slash', '$(touch /tmp/pwned)', '-q'];
    const command = args.map(shellArg).join(' ');
    const r = spawnSync('/bin/sh', ['-c', `printf '%s\\n' ${cronUnescape(command)}`], { encoding: 'utf8' });
    assert.deepEqual(r.stdout.split('\n').slice(0, -1), args);
    assert.doesNotMatch(command.replace(/\\%/g, ''), /%/, 'no bare % that cron would turn into a newline');
  });

  it('writes a service and timer pair and a cron line', () => {
    const { service, timer } = systemdUnits(request({ user: 'backup', schedule: '04:15', command: ['/usr/bin/node', '/b/batt.js', '--home', '/srv/batt home'] }));
    assert.match(service, /^ExecStart=\/usr\/bin\/node \/b\/batt\.js --home "\/srv\/batt home"$/m);
    assert.match(service, /^Type=oneshot$/m);
    assert.match(service, /^User=backup$/m);
    assert.match(timer, /^OnCalendar=\*-\*-\* 04:15:00$/m);
    assert.match(timer, /^Persistent=true$/m);
    assert.match(timer, /^RandomizedDelaySec=\S+$/m);
    assert.match(timer, /^Unit=batt\.service$/m);
    assert.doesNotMatch(systemdUnits(request()).service, /^User=/m, 'root needs no User=');
    assert.equal(cronLine(request()).split('\n')[1], '0 3 * * * root /usr/bin/node /usr/lib/batt/bin/batt.js --home /opt/batt -q');
  });
});
