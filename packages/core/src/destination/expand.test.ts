import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandPattern, staticRoot, validatePattern, withServicePlaceholder } from './expand.js';

// Local time is what strftime uses; pin the zone so the fixed dates mean one thing.
process.env.TZ = 'UTC';
const at = new Date('2014-11-13T22:53:07Z'); // a Thursday, day 317, ISO week 46
const values = { service: 'mysql', host: 'db1' };

describe('expandPattern', () => {
  it('expands the original batt examples', () => {
    assert.equal(expandPattern('/opt/backup/%Y/%m/%d/%H/%M', at, values), '/opt/backup/2014/11/13/22/53');
    assert.equal(expandPattern('/opt/backup/%Y/%m/%d/daily/{service}', at, values), '/opt/backup/2014/11/13/daily/mysql');
  });

  it('knows the common specifiers', () => {
    assert.equal(
      expandPattern('%y %j %a %A %b %B %u %w %V %G %F %T %s %% %H%M%S %I%p %e', at, values),
      '14 317 Thu Thursday Nov November 4 4 46 2014 2014-11-13 22:53:07 1415919187 % 225307 10PM 13',
    );
  });

  it('pads single-digit days with a space for %e and a zero for %d', () => {
    const d = new Date('2020-01-05T03:04:05Z');
    assert.equal(expandPattern('%d|%e|%m|%H|%j|%U|%W', d, values), '05| 5|01|03|005|01|00');
  });

  it('fills {service} and {host}', () => {
    assert.equal(expandPattern('/b/{host}/{service}/%Y', at, values), '/b/db1/mysql/2014');
  });

  it('rejects unknown specifiers and placeholders instead of keeping them', () => {
    assert.throws(() => expandPattern('/b/%Q', at, values), /unknown date specifier "%Q"/);
    assert.throws(() => expandPattern('/b/%', at, values), /unknown date specifier "%"/);
    assert.throws(() => expandPattern('/b/{date}', at, values), /unknown placeholder "\{date\}"/);
    assert.throws(() => expandPattern('/b/{service', at, values), /unknown placeholder/);
    assert.throws(() => validatePattern('/x/%k'), { code: 'PATH_PATTERN' });
  });

  it('appends /{service} only when the pattern has none', () => {
    assert.equal(withServicePlaceholder('/custom/path/'), '/custom/path/{service}');
    assert.equal(withServicePlaceholder('/b/{service}/%Y'), '/b/{service}/%Y');
  });
});

describe('staticRoot', () => {
  it('is the leading folders without a specifier or placeholder', () => {
    assert.equal(staticRoot('/opt/backup/%Y/%m/%d/{service}'), '/opt/backup');
    assert.equal(staticRoot('/srv/{host}/db'), '/srv');
    assert.equal(staticRoot('/%Y/x'), '/');
    assert.equal(staticRoot('/srv/backup'), '/srv/backup');
  });
});
