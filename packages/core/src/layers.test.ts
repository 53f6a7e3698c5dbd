/**
 * The house rules of the core's folders (README, "What is where"), checked on the sources: no import runs back
 * up the layers (the folders' import graph has no cycle), the four runs (backup, restore,
 * retention, repair) do not import each other, and plugins import only the kit.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { it } from 'node:test';

const src = join(import.meta.dirname, '..', 'src');
const packages = join(src, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('conformance.ts'))
    .map((f) => join(dir, f));
}

const importsOf = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gms)].map((m) => m[1]);

/** folder → the core folders it imports from. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(src)) {
    const from = relative(src, dirname(file));
    if (from === '') continue; // index.ts and kit.ts gather everything on purpose
    for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
      const to = relative(src, join(dirname(file), spec)).split('/')[0];
      if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

/** A cycle in the graph, as a path of folders, or undefined. */
function cycleIn(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    if (state.get(node) === 'done') return undefined;
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) {
      const found = visit(next, [...path, node]);
      if (found) return found;
    }
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const found = visit(node, []);
    if (found) return found;
  }
  return undefined;
}

it('the core folders import down only: their import graph has no cycle', () => {
  const graph = folderGraph();
  assert.ok(graph.get('backup')?.has('pipeline'), 'the graph is read (backup uses the pipeline)');
  assert.equal(cycleIn(graph)?.join(' → '), undefined);
  assert.deepEqual(
    cycleIn(
      new Map([
        ['a', new Set(['b'])],
        ['b', new Set(['a'])],
      ]),
    ),
    ['a', 'b', 'a'],
    'a cycle is found',
  );
});

it('backup, restore, retention and repair do not import each other', () => {
  const graph = folderGraph();
  const runs = ['backup', 'restore', 'retention', 'repair'];
  const crossing = runs.flatMap((from) => runs.filter((to) => graph.get(from)?.has(to)).map((to) => `${from} → ${to}`));
  assert.deepEqual(crossing, []);
});

it('plugins import nothing of the core but the kit', () => {
  const plugins = ['mysql', 'postgresql', 'redis', 'mongodb', 'file'];
  const deep = plugins.flatMap((p) =>
    sources(join(packages, p, 'src')).flatMap((file) =>
      importsOf(file)
        .filter((s) => s.startsWith('@batt/core') && s !== '@batt/core/kit')
        .map((s) => `${relative(packages, file)}: ${s}`),
    ),
  );
  assert.equal(sources(join(packages, 'mysql', 'src')).length > 0, true);
  assert.deepEqual(deep, []);
});
