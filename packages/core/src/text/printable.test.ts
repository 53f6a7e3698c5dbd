import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable, shortened } from './printable.js';

describe('printable', () => {
  it('escapes newlines, carriage returns, tabs and escape sequences, so text stays on its line', () => {
    assert.equal(printable('a\nbatt: run 99 ok'), 'a\\nbatt: run 99 ok');
    assert.equal(printable('x\r\x1b[2J\x1b[31mred\x07\t'), 'x\\r\\x1b[2J\\x1b[31mred\\x07\\t');
    assert.equal(printable('\0\x7f\x9b'), '\\x00\\x7f\\x9b');
  });

  it('escapes the invisible Unicode line separators and direction overrides', () => {
    assert.equal(printable('a\u2028b\u202ec\u2066'), 'a\\u2028b\\u202ec\\u2066');
  });

  it('leaves ordinary text, accents and other scripts as they are', () => {
    for (const text of ['/var/www/site', 'café 字 ✓ → …', 'a\\nb', '']) assert.equal(printable(text), text);
  });

  it('leaves no control character in any string', () => {
    let all = '';
    for (let c = 0; c < 0x3000; c++) all += String.fromCharCode(c);

    assert.doesNotMatch(printable(all), /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('shortened', () => {
  it('cuts long text and says how much was left out', () => {
    assert.equal(shortened('abc', 5), 'abc');
    assert.equal(shortened('x'.repeat(300), 10), `${'x'.repeat(10)}… (290 more characters)`);
  });
});
