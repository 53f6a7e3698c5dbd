/** `batt serve`: the catalog over HTTP, read-only (docs/serve.md). */
import { command } from '../options.js';

export const serve = command(
  'serve',
  'a read-only dashboard over the catalog, with its JSON API',
  (y) =>
    y
      .usage(
        `batt serve [--host 127.0.0.1] [--port 8484]

Pages: / (every service and target, its last good backup and age, copies, last verify and
restore drill, the worst news first, and 90 days of outcomes), /targets/<service>/<target> (its
size and duration over time), /runs (filtered, a page at a time) and /runs/<id> (one run).
The same as JSON: /api/overview, /api/targets/<service>/<target>,
/api/runs?service=&status=&since=&until=&limit=&before= and /api/runs/<id> (as \`batt show
--json\`). A target is late when its last good backup is older than max_age (default: the
schedule's period and a quarter). Read-only: it never writes the catalog, so it never holds up a
backup. Loopback by default; any other address needs a token (serve.token_file
or BATT_SERVE_TOKEN), sent as "Authorization: Bearer <token>". A request whose Host header is not
the bound address gets 403. Stops on Ctrl-C or SIGTERM. Docs: docs/serve.md`,
      )
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'the address to listen on' })
      .option('port', { type: 'number', default: 8484, describe: 'the port to listen on (0: any free one, printed)' })
      .example('batt serve', 'http://127.0.0.1:8484/ on this machine only')
      .example('BATT_SERVE_TOKEN=… batt serve --host 0.0.0.0', 'reachable from other hosts, with a token'),
  async (a, { app }) => {
    const { serveCommand } = await import('./serve.js');
    return serveCommand(app, { host: a.host as string, port: a.port as number, config: a.config as string | undefined });
  },
);
