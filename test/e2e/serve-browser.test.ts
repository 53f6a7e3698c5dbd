/**
 * `batt serve` in a real browser: Debian's headless Chromium, driven by playwright-core, loads the
 * overview, follows a target to its charts and a run to its items, filters the runs, and shows a
 * database named `<img src=x onerror=alert(1)>` as text that runs nothing. Screenshots go to the
 * test's folder, and to BATT_SCREENSHOTS when it is set (docs/img is made that way: DEVELOPERS.md).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { battBin, json, sandbox, type Sandbox } from '../lib/batt.js';

/** The flags DEVELOPERS.md gives: headless as root, and no traffic to Google's hosts on a closed network. */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const hostileName = '<img src=x onerror=alert(1)>';

describe('batt serve in headless Chromium', () => {
  let box: Sandbox;
  let serve: ResultPromise;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  let hostile: string;
  let runs: number[];
  const dialogs: string[] = [];
  const errors: string[] = [];

  before(async () => {
    box = sandbox();
    hostile = box.folder(hostileName, { a: 'alpha' });
    runs = [];
    for (const size of [20_000, 60_000, 40_000]) {
      writeFileSync(
        join(hostile, 'data.bin'),
        Buffer.alloc(size, 7).map((_, i) => (i * 2654435761) >>> 24),
      );
      runs.push(json(await box.batt(['--file', hostile, '--json'])).id);
    }
    assert.equal((await box.batt(['--file', join(box.dir, 'gone')])).exitCode, 1);
    assert.equal((await box.batt(['verify', String(runs[2])])).exitCode, 0);
    serve = execa(process.execPath, [battBin, '--home', box.home, 'serve', '--port', '0'], { reject: false, extendEnv: false, env: box.env() });
    base = await new Promise<string>((ok, fail) => {
      let seen = '';
      serve.stdout!.on('data', (c: Buffer) => {
        seen += c.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(seen);
        if (m) ok(m[1]);
      });
      void serve.then((r) => fail(new Error(`batt serve ended: ${String(r.stderr)}`)));
    });
    // A fresh profile inside the test's folder (launchPersistentContext passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(join(box.dir, 'chromium'), {
      executablePath: '/usr/bin/chromium',
      args: chromiumArgs,
      viewport: { width: 1280, height: 860 },
    });
    page = await browser.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  });
  after(async () => {
    await browser?.close();
    serve?.kill('SIGTERM');
    await serve;
    box.cleanup();
  });

  /** A full-page screenshot into the test's folder, and into BATT_SCREENSHOTS when set. */
  async function screenshot(name: string): Promise<void> {
    const file = join(box.dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (process.env.BATT_SCREENSHOTS) {
      mkdirSync(resolve(process.env.BATT_SCREENSHOTS), { recursive: true });
      copyFileSync(file, join(resolve(process.env.BATT_SCREENSHOTS), `${name}.png`));
    }
  }

  it('the overview: the worst news first, a strip of 90 days, the hostile name as text that runs nothing', async () => {
    await page.goto(`${base}/`);
    assert.equal(await page.locator('.banner').innerText(), '1 of 2 targets need attention.');
    const rows = page.locator('table.targets tbody tr');
    assert.equal(await rows.count(), 2);
    assert.equal(await rows.nth(0).locator('.badge').innerText(), 'never', 'the target that never had a good backup first');
    assert.equal(await rows.nth(1).locator('td').nth(2).innerText(), hostile, 'the name shown as it is');
    assert.equal(await page.locator('main img').count(), 0, 'and not made into an element');
    assert.equal(await page.locator('svg.strip rect').count(), 90);
    assert.equal(await page.locator('svg.strip rect.verified').count(), 0, 'today had a failure');
    assert.equal(await page.locator('svg.strip rect.partial').count(), 1, 'today: some good, one failed');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('header')!).backgroundColor), 'rgb(17, 24, 39)', 'the stylesheet applies under the CSP');
    await screenshot('serve-overview');
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.deepEqual(errors, [], 'no CSP violation or script error');
  });

  it('a target: the size and duration charts have one point per backup, each a link to its run', async () => {
    await page.goto(`${base}/`);
    await page.locator('table.targets a', { hasText: hostile }).click();
    await page.waitForURL(/\/targets\/file\//);
    assert.equal(await page.locator('h1').innerText(), `verified file · ${hostile}`);
    const charts = page.locator('svg.chart');
    assert.equal(await charts.count(), 2);
    for (const i of [0, 1]) {
      assert.equal(await charts.nth(i).getAttribute('data-points'), '3');
      assert.equal(await charts.nth(i).locator('circle').count(), 3, 'three backups, three points');
      assert.equal((await charts.nth(i).locator('polyline').getAttribute('points'))!.split(' ').length, 3);
    }
    const sizes = await charts
      .nth(0)
      .locator('circle')
      .evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('cy'))));
    assert.ok(sizes[1] < sizes[2] && sizes[2] < sizes[0], `the largest backup (the second) is drawn highest: ${sizes.join(', ')}`);
    assert.equal(await page.locator('main img').count(), 0);
    await screenshot('serve-target');
    await charts.nth(0).locator('a').nth(1).click();
    await page.waitForURL(new RegExp(`/runs/${runs[1]}$`));
  });

  it('a run: its items with size, SHA-256, copies and checks, as `batt show --json` has them', async () => {
    await page.goto(`${base}/runs/${runs[2]}`);
    const shown = json(await box.batt(['show', String(runs[2]), '--json']));
    assert.equal(await page.locator('h1').innerText(), `ok Run #${runs[2]}`);
    assert.equal(await page.locator('.item .sha256').innerText(), shown.items[0].sha256);
    assert.match(await page.locator('.item').innerText(), /ok verify/);
    assert.equal(await page.locator('.item h2 a').innerText(), hostile);
    await screenshot('serve-run');
  });

  it('the runs: filtered through the form, paged by keyset', async () => {
    await page.goto(`${base}/runs`);
    assert.equal(await page.locator('table.runs tbody tr').count(), 4);
    await page.selectOption('select[name=status]', 'failed');
    await page.locator('form.filters button').click();
    await page.waitForURL(/status=failed/);
    assert.equal(await page.locator('table.runs tbody tr').count(), 1);
    await page.goto(`${base}/runs?limit=2`);
    assert.equal(await page.locator('table.runs tbody tr').count(), 2);
    await page.locator('a[rel=next]').click();
    await page.waitForURL(/before=/);
    const ids = await page.locator('table.runs tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(ids, [`#${runs[1]}`, `#${runs[0]}`], 'the older two');
    await page.goto(`${base}/runs`);
    await screenshot('serve-runs');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
  });
});
