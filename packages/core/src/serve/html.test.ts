import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { html, link, preformatted, spokenSeconds } from './html.js';

describe('html', () => {
  it('escapes every value, and takes only html results as markup', () => {
    const name = `<img src=x onerror="alert(1)">'&`;
    assert.equal(
      html`<td title="${name}">${name}</td>`.text,
      '<td title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;</td>',
    );
    assert.equal(html`<p>${html`<b>${name}</b>`}</p>`.text, '<p><b>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;</b></p>');
    assert.equal(html`${['<a>', html`<b></b>`, null, undefined, false, 0]}`.text, '&lt;a&gt;<b></b>0');
  });

  it('shows control characters and direction overrides as escapes, keeping lines in <pre>', () => {
    assert.equal(html`${'a\u202eb\u001b[31m'}`.text, 'a\\u202eb\\x1b[31m');
    assert.equal(preformatted('one <x>\ntwo\u0007').text, 'one &lt;x&gt;\ntwo\\x07');
  });

  it('encodes each part of a link', () => {
    assert.equal(link('targets', 'file', '/etc/a b?"<'), '/targets/file/%2Fetc%2Fa%20b%3F%22%3C');
  });

  it('speaks durations', () => {
    assert.deepEqual([0.123, 4.24, 42, 303, 11_520, 367_200].map(spokenSeconds), ['0.12s', '4.2s', '42s', '5m 03s', '3h 12m', '4d 6h']);
  });
});
