/**
 * One run's page (`/runs/<id>`): what `batt show` prints, as HTML: the run's facts, then each item
 * with its size, SHA-256, duration, copies, checks, error and the tool's kept stderr.
 */
import { humanBytes } from '../text/names.js';
import type { RunDetail } from './api.js';
import { badge, html, link, page, preformatted, statusBadges, time, took, type Html } from './html.js';

type Item = RunDetail['items'][number];

function itemSection(i: Item): Html {
  const facts = i.facts && typeof i.facts === 'object' ? JSON.stringify(i.facts, null, 2) : null;
  return html`<section class="item" id="item-${i.id}">
    <h2>${statusBadges(i.status, i.suspect)} ${i.service} · <a href="${link('targets', i.service, i.target)}">${i.target}</a></h2>
    <dl class="facts">
      <dt>File</dt>
      <dd class="mono">${i.file ?? '-'}${i.local ? '' : ' (not kept here: in its first storage)'}</dd>
      <dt>Size</dt>
      <dd>${humanBytes(i.bytes)}</dd>
      <dt>SHA-256</dt>
      <dd class="mono sha256">${i.sha256 ?? '-'}</dd>
      <dt>Started</dt>
      <dd>${time(i.startedAt)}</dd>
      <dt>Duration</dt>
      <dd>${took(i.startedAt, i.finishedAt)}</dd>
      <dt>Compression</dt>
      <dd>${i.compression ?? '-'}${i.encryption ? `, encrypted (${i.encryption})` : ''}</dd>
      <dt>Tool</dt>
      <dd>${i.toolVersion ?? '-'}${i.serverVersion ? ` · server ${i.serverVersion}` : ''}</dd>
      ${
        i.suspect
          ? html`<dt>Suspect</dt>
              <dd class="late">${i.suspect}</dd>`
          : ''
      }
      ${
        i.error
          ? html`<dt>Error</dt>
              <dd class="error">${i.error}</dd>`
          : ''
      }
      <dt>Copies</dt>
      <dd>
        ${
          i.copies.length
            ? i.copies.map((c) => html`<div><strong>${c.storage}</strong> <span class="mono">${c.key}</span> (${humanBytes(c.bytes)}, ${time(c.copiedAt)})</div>`)
            : html`<span class="none">none</span>`
        }
      </dd>
      <dt>Checks</dt>
      <dd>
        ${
          i.checks.length
            ? i.checks.map(
                (c) =>
                  html`<div>
                    ${badge(c.status)} ${c.kind} ${time(c.startedAt)}${c.target ? ` into ${c.target}` : ''}${c.error ? html` · <span class="error">${c.error}</span>` : ''}
                  </div>`,
              )
            : html`<span class="none">never verified</span>`
        }
      </dd>
    </dl>
    ${
      facts
        ? html`<details>
            <summary>Facts</summary>
            <pre>${preformatted(facts)}</pre>
          </details>`
        : ''
    }
    ${i.log ? html`<details${i.status === 'ok' ? '' : html` open`}><summary>Tool output (stderr)</summary><pre class="log">${preformatted(i.log)}</pre></details>` : ''}
  </section>`;
}

export function runPage(host: string, run: RunDetail): Html {
  return page(
    `Run ${run.id}`,
    host,
    html`<h1>${badge(run.status)} Run #${run.id}</h1>
      <dl class="facts">
        <dt>Started</dt>
        <dd>${time(run.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>${time(run.finishedAt)}</dd>
        <dt>Duration</dt>
        <dd>${took(run.startedAt, run.finishedAt)}</dd>
        <dt>Host</dt>
        <dd>${run.host} (${run.user}, pid ${run.pid})</dd>
        <dt>Services</dt>
        <dd>${run.services}</dd>
        <dt>Destination</dt>
        <dd class="mono">${run.destination}</dd>
        ${
          run.bundleFile
            ? html`<dt>Bundle</dt>
                <dd class="mono">${run.bundleFile} (${humanBytes(run.bundleBytes)}, ${run.bundleSha256})</dd>`
            : ''
        }
        ${
          run.error
            ? html`<dt>Error</dt>
                <dd class="error">${run.error}</dd>`
            : ''
        }
      </dl>
      ${run.items.length ? run.items.map(itemSection) : html`<p class="none">This run backed up nothing.</p>`}
      <p class="pager"><a href="/runs?before=${run.id + 1}">Runs around this one</a> · <a href="${link('api', 'runs', run.id)}">as JSON</a></p>`,
  );
}
