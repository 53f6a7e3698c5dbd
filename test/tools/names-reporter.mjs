// A node:test reporter that prints one JSON line per test that ran (file, name, passed), and
// nothing for suites: test/each-alone.mjs uses it to list the tests it then runs one by one.
export default async function* names(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    yield `${JSON.stringify({ file: event.data.file, name: event.data.name, passed: event.type === 'test:pass' })}\n`;
  }
}
