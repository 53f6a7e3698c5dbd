/**
 * docs/guarantees.md and docs/security.md name, for each promise, the tests that prove it. Each
 * name must be the name of a test in this suite, as `pnpm test` prints it, and each promise must
 * name one at least: a test renamed or removed without its promise fails here, naming both.
 * Hermetic: it reads only the repository's own Markdown and test sources.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..');

/** A promise from a doc's table: its first cell, and the code spans of its test column. */
interface PromiseRow {
  doc: string;
  line: number;
  promise: string;
  spans: string[];
}

/** A table cell's text split on `|`, but not on `\|`; `\|` becomes `|` as GFM reads it. */
function cells(row: string): string[] {
  const parts = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/);
  return parts.map((c) => c.replace(/\\\|/g, '|').trim());
}

/** The code spans of a Markdown text (`` `a` `` or ``` `` b `c` `` ```), as CommonMark reads them. */
function codeSpans(text: string): string[] {
  const spans: string[] = [];
  const run = /`+/g;
  let m: RegExpExecArray | null;
  while ((m = run.exec(text))) {
    const close = new RegExp(`(?<!\`)${m[0]}(?!\`)`, 'g');
    close.lastIndex = m.index + m[0].length;
    const end = close.exec(text);
    if (!end) continue; // a lone backtick run is text
    let body = text.slice(m.index + m[0].length, end.index).replace(/\n/g, ' ');
    if (body.length > 2 && body.startsWith(' ') && body.endsWith(' ') && body.trim()) body = body.slice(1, -1);
    spans.push(body);
    run.lastIndex = end.index + end[0].length;
  }
  return spans;
}

/** Every row of every table in `markdown` whose header has a `test` or `proven by` column. */
function promisesIn(doc: string, markdown: string): PromiseRow[] {
  const lines = markdown.split('\n');
  const found: PromiseRow[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trimStart().startsWith('|') || !/^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) continue;
    const header = cells(lines[i]).map((c) => c.toLowerCase());
    const column = header.findIndex((c) => c === 'test' || c === 'tests' || c === 'proven by');
    let j = i + 2;
    for (; j < lines.length && lines[j].trimStart().startsWith('|'); j++) {
      if (column < 0) continue;
      const row = cells(lines[j]);
      const title = /^\*\*(.+?)\*\*/.exec(row[0]); // a bold title names the promise
      found.push({ doc, line: j + 1, promise: title ? title[1].replace(/\.$/, '') : row[0], spans: codeSpans(row[column] ?? '') });
    }
    i = j - 1;
  }
  return found;
}

/** The test names of the suite: exact strings, and patterns for names written as templates. */
interface Names {
  exact: Set<string>;
  patterns: RegExp[];
}

const quoted = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A test's name as written: a string (exact), or a template (a pattern: a ternary of two strings stands for either, anything else for any text). */
function nameOf(arg: ts.Expression): { exact?: string; pattern?: string } {
  if (ts.isStringLiteralLike(arg)) return { exact: arg.text };
  if (!ts.isTemplateExpression(arg)) return {};
  const part = (e: ts.Expression): string =>
    ts.isConditionalExpression(e) && ts.isStringLiteralLike(e.whenTrue) && ts.isStringLiteralLike(e.whenFalse)
      ? `(?:${quoted(e.whenTrue.text)}|${quoted(e.whenFalse.text)})`
      : '.+';
  return { pattern: quoted(arg.head.text) + arg.templateSpans.map((span) => part(span.expression) + quoted(span.literal.text)).join('') };
}

/** The names given to it/test/describe/suite calls (and their .skip/.only/.todo) in `source`, read by TypeScript's parser. */
function testNamesIn(source: string, into: Names = { exact: new Set(), patterns: [] }): Names {
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length) {
      const callee = ts.isPropertyAccessExpression(node.expression) && ['skip', 'only', 'todo'].includes(node.expression.name.text) ? node.expression.expression : node.expression;
      if (ts.isIdentifier(callee) && ['it', 'test', 'describe', 'suite'].includes(callee.text)) {
        const { exact, pattern } = nameOf(node.arguments[0]);
        if (exact !== undefined) into.exact.add(exact);
        else if (pattern !== undefined) into.patterns.push(new RegExp(`^${pattern}$`, 's'));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile('test.ts', source, ts.ScriptTarget.Latest));
  return into;
}

/** The test sources of the repository: every *.test.ts under packages/*\/src and test/, and test/lib (shared suites). */
function testSources(): string[] {
  const files: string[] = [];
  const walk = (dir: string, all: boolean): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path, all);
      else if (e.name.endsWith('.test.ts') || (all && e.name.endsWith('.ts'))) files.push(path);
    }
  };
  for (const p of readdirSync(join(root, 'packages'))) if (existsSync(join(root, 'packages', p, 'src'))) walk(join(root, 'packages', p, 'src'), false);
  walk(join(root, 'test', 'e2e'), false);
  walk(join(root, 'test', 'lib'), true);
  return files;
}

/** What is wrong with the promises: a name no test has, a test file that is not there, a promise that names no test. */
function problems(promises: PromiseRow[], names: Names, fileExists: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const p of promises) {
    const where = `${p.doc}:${p.line} "${p.promise.length > 80 ? `${p.promise.slice(0, 80)}…` : p.promise}"`;
    let tests = 0;
    for (const span of p.spans) {
      if (/^[\w./-]+\.test\.ts$/.test(span)) {
        if (!fileExists(span)) found.push(`${where} names the test file ${span}, which is not there`);
        continue;
      }
      tests++;
      if (!names.exact.has(span) && !names.patterns.some((re) => re.test(span))) found.push(`${where} names the test "${span}", which no test of the suite is called`);
    }
    if (tests === 0) found.push(`${where} names no test`);
  }
  return found;
}

describe('the promises of docs/guarantees.md and docs/security.md', () => {
  const names: Names = { exact: new Set(), patterns: [] };
  for (const file of testSources()) testNamesIn(readFileSync(file, 'utf8'), names);
  const check = (doc: string, atLeast: number): void => {
    const promises = promisesIn(doc, readFileSync(join(root, doc), 'utf8'));
    assert.ok(promises.length >= atLeast, `${doc}: ${promises.length} promises found in its tables, expected at least ${atLeast}`);
    const wrong = problems(promises, names, (path) => existsSync(join(root, path)));
    assert.deepEqual(wrong, [], `${wrong.length} problem(s):\n${wrong.join('\n')}`);
  };

  it('every promise in docs/guarantees.md names a test, and each test it names is in the suite', () => check('docs/guarantees.md', 20));

  it('every rule in docs/security.md names a test, and each test it names is in the suite', () => check('docs/security.md', 15));

  it('the check fails on a name no test has, a missing test file, and a promise that names no test', () => {
    const sample = [
      '| step | effect |',
      '|---|---|',
      '| 1 | `not a test name, and not checked` |',
      '',
      '| promise | test |',
      '|---|---|',
      '| **kept** | `a real one`, `` with `ticks` inside ``, `with gzip compression` |',
      '| renamed | `a real one` and `an old name` |',
      '| a file | `packages/x/src/gone.test.ts` |',
      '| none | proven, trust us |',
      '| escaped \\| pipe | `a \\! line` |',
    ].join('\n');
    const source = "it('a real one', () => {}); describe(\"with `ticks` inside\", () => {}); it(`with ${c} compression`); it('a \\\\! line'); x.test('not a name');";
    const promises = promisesIn('sample.md', sample);
    assert.deepEqual(
      promises.map((p) => [p.promise, p.spans]),
      [
        ['kept', ['a real one', 'with `ticks` inside', 'with gzip compression']],
        ['renamed', ['a real one', 'an old name']],
        ['a file', ['packages/x/src/gone.test.ts']],
        ['none', []],
        ['escaped | pipe', ['a \\! line']],
      ],
    );
    const names = testNamesIn(source);
    assert.deepEqual([...names.exact].sort(), ['a \\! line', 'a real one', 'with `ticks` inside']);
    assert.deepEqual(
      problems(promises, names, () => false),
      [
        'sample.md:8 "renamed" names the test "an old name", which no test of the suite is called',
        'sample.md:9 "a file" names the test file packages/x/src/gone.test.ts, which is not there',
        'sample.md:9 "a file" names no test',
        'sample.md:10 "none" names no test',
      ],
    );
    // A ternary of two literals in a template stands for either of them, nothing else.
    const either = testNamesIn("it(`the cache ${atLeast(22, 8) ? 'is filled' : 'stays off'} on this Node`)");
    assert.ok(either.patterns[0].test('the cache is filled on this Node') && either.patterns[0].test('the cache stays off on this Node'));
    assert.ok(!either.patterns[0].test('the cache is gone on this Node'));
  });
});
