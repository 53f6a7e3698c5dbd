/** `batt serve`: the catalog over HTTP, read-only (docs/serve.md). */
import { command } from '../options.js';

export const serve = command(
  'serve',
  'serve the catalog read-only over HTTP: a JSON API (and, later, a dashboard)',
  (y) =>
    y
      .usage(
        `batt serve [--host 127.0.0.1] [--port 8484]

Answers /api/overview (every service and target, its last good backup, the worst news first),
/api/runs?service=&status=&limit=&before= (runs, newest first, a page at a time) and
/api/runs/<id> (one run, as \`batt show --json\`). Read-only: it never writes the catalog, so it
never holds up a backup. Loopback by default; any other address needs a token (serve.token_file
or BATT_SERVE_TOKEN), sent as "Authorization: Bearer <token>". A request whose Host header is not
the bound address gets 403. Stops on Ctrl-C or SIGTERM. Docs: docs/serve.md`,
      )
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'the address to listen on' })
      .option('port', { type: 'number', default: 8484, describe: 'the port to listen on (0: any free one, printed)' })
      .example('batt serve', 'http://127.0.0.1:8484/api/overview on this machine only')
      .example('BATT_SERVE_TOKEN=… batt serve --host 0.0.0.0', 'reachable from other hosts, with a token'),
  async (a, { app }) => {
    const { serveCommand } = await import('./serve.js');
    return serveCommand(app, { host: a.host as string, port: a.port as number, config: a.config as string | undefined });
  },
);
