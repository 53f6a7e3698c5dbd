import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backslashCommands, restrictedScript } from './script.js';

// What pg_dumpall --globals-only 15.20 writes, \restrict and \unrestrict included.
const honest = `--
-- PostgreSQL database cluster dump
--

\\restrict ifaZdgo8faxjdcjEfaNicFA4lbx9BJr3V7NqrdKKPI0dBMjX7JBDOtdUUsNbdhG

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
CREATE ROLE "we\\ird";
COMMENT ON ROLE "we\\ird" IS 'C:\\temp\\x and a \\! in a comment';

\\unrestrict ifaZdgo8faxjdcjEfaNicFA4lbx9BJr3V7NqrdKKPI0dBMjX7JBDOtdUUsNbdhG

--
-- PostgreSQL database cluster dump complete
--
`;

describe('psql scripts: backslash commands', () => {
  it("passes pg_dumpall's own script, its \\restrict lines blanked under batt's own key", () => {
    const { text, refused } = restrictedScript(honest);
    assert.deepEqual(refused, []);
    const [first, ...rest] = text.split('\n');
    assert.match(first, /^\\restrict [0-9a-f]{64}$/);
    assert.equal(rest.length, honest.split('\n').length, 'line numbers stay');
    assert.ok(!text.includes('ifaZdgo8'), "the dump's own key is gone");
    assert.notEqual(restrictedScript(honest).text.split('\n')[0], first, 'a new key every time');
  });

  it('finds \\! on its own line and mid-line after a statement', () => {
    assert.deepEqual(backslashCommands('SELECT 1;\n\\! touch /tmp/x\n'), ['line 2: \\! touch /tmp/x']);
    assert.deepEqual(backslashCommands("CREATE ROLE a; \\! touch /tmp/x\nSELECT 'b';"), ['line 1: \\! touch /tmp/x']);
    assert.deepEqual(backslashCommands('SELECT 1 \\g |sh\n\\o |sh\n'), ['line 1: \\g |sh', 'line 2: \\o |sh']);
    assert.deepEqual(restrictedScript("\\copy t from program 'id'\n\\i /etc/x\n").refused, ["line 1: \\copy t from program 'id'", 'line 2: \\i /etc/x']);
  });

  it('skips quotes, identifiers, dollar quotes and comments as psql does', () => {
    assert.deepEqual(backslashCommands("SELECT 'a\\b', \"c\\d\", $$e\\f$$, $t$\\! x$t$, 'it''s \\!';\n-- \\! x\n/* /* \\! */ \\! */ SELECT 1;"), []);
    assert.deepEqual(backslashCommands('SELECT a$b$ \\! x'), ['line 1: \\! x'], 'a$b$ is an identifier, no dollar quote');
    assert.deepEqual(backslashCommands("SELECT E'\\'' ; \\! x"), ['line 1: \\! x'], "an escaped quote in E'…' does not end it");
  });

  it('reads strings both ways: a script may turn standard_conforming_strings off', () => {
    // With the setting on, \\! is inside one string; with it off, \\' escapes and \\! is outside.
    const script = "SET standard_conforming_strings = off;\nSELECT 'a\\'' \\! touch /tmp/x '";
    assert.deepEqual(backslashCommands(script), ["line 2: \\! touch /tmp/x '"]);
  });

  it("keeps only pg_dumpall's exact \\restrict lines: any other form is refused", () => {
    assert.deepEqual(restrictedScript('\\restrict abc; \\! id\n \\unrestrict abc\n\\restrict a-b\n\\unrestrict abc\n').refused, [
      'line 1: \\restrict abc; \\! id',
      'line 2: \\unrestrict abc',
      'line 3: \\restrict a-b',
    ]);
  });
});
