/**
 * `batt serve` (docs/serve.md): the dashboard and its JSON API over the catalog, opened
 * read-only (what each path answers is core's serve/routes.ts). Safety first:
 * loopback unless a token is set; with a token every request must carry it (compared in constant
 * time); a Host header that is not the bound address is refused (DNS rebinding); every answer
 * carries a strict CSP and no-sniff; only GET and HEAD.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BattError, readSecretFile, closeCatalog, ExitCode, maxAgeOf, openCatalog, openCatalogReadOnly, route, type Answer, type RouteContext } from '@batt/core';
import type { App } from '../app.js';
import { loadAppConfig } from './common.js';

export interface ServeArgs {
  host: string;
  port: number;
  config?: string;
}

const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const headers = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** The token every request must send: BATT_SERVE_TOKEN, else serve.token_file (0600); undefined when neither is set. */
function tokenOf(file: string | undefined): string | undefined {
  if (process.env.BATT_SERVE_TOKEN) return process.env.BATT_SERVE_TOKEN;
  if (!file) return undefined;
  const token = readSecretFile('serve.token_file', file);
  if (token.length < 16) throw new BattError('CONFIG', `the token in ${file} is shorter than 16 characters`, { hint: 'make a long random one: openssl rand -hex 32' });
  return token;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export async function serveCommand(app: App, args: ServeArgs): Promise<number> {
  const config = await loadAppConfig(app, args);
  const token = tokenOf(config.serve?.token_file);
  if (!loopback(args.host) && !token) {
    throw new BattError('USAGE', `batt serve listens on ${args.host}, beyond this machine, without a token`, {
      hint: 'set serve.token_file (a 0600 file) or BATT_SERVE_TOKEN, or listen on 127.0.0.1',
    });
  }
  closeCatalog(await openCatalog(app.home.catalog)); // made, or brought up to date, once
  const db = await openCatalogReadOnly(app.home.catalog);
  const context: RouteContext & { collect?: () => void } = { db, host: hostname(), maxAge: maxAgeOf(config), collect: collector() };
  const server = createServer((req, res) => {
    try {
      answer(context, req, res, { token, hosts: allowedHosts(args.host, (server.address() as { port: number }).port) });
    } catch (error) {
      send(res, { status: 500, type: 'json', body: JSON.stringify({ error: error instanceof BattError ? error.message : 'internal error' }) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new BattError('USAGE', `cannot listen on ${args.host}:${args.port}: ${error.code ?? error.message}`, { hint: 'choose another --port, or stop what uses it' })),
    );
    server.listen(args.port, args.host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  const shown = isIP(args.host) === 6 ? `[${args.host}]` : args.host;
  process.stdout.write(`batt serve: http://${shown}:${port}/ (read-only; the API under /api/; Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  closeCatalog(db);
  return ExitCode.ok;
}

/**
 * A full garbage collection once the server has been idle for a second, and after every 50
 * answered requests: V8 otherwise lets its young generation grow under a steady stream of
 * requests, and the server held 174 MB instead of 141 (pnpm bench:serve, docs/serve.md). A full
 * collection of this small heap takes a few milliseconds. Where this Node will not expose its
 * collector at run time, the server goes on without.
 */
function collector(): (() => void) | undefined {
  let gc: () => void;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
    if (typeof gc !== 'function') return undefined;
  } catch {
    return undefined;
  }
  let count = 0;
  let idle: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(idle);
    if (++count % 50 === 0) setImmediate(gc);
    idle = setTimeout(gc, 1000).unref();
  };
}

/** The Host headers a request may carry: the bound address with its port (and localhost's, on loopback). */
function allowedHosts(host: string, port: number): Set<string> {
  const names = [isIP(host) === 6 ? `[${host}]` : host, ...(loopback(host) ? ['localhost', '127.0.0.1', '[::1]'] : [])];
  return new Set(names.flatMap((n) => [n, `${n}:${port}`]));
}

const types = { json: 'application/json', html: 'text/html', css: 'text/css', svg: 'image/svg+xml' };

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { ...headers, 'Content-Type': `${types[answer.type]}; charset=utf-8`, 'Content-Length': Buffer.byteLength(answer.body) });
  res.end(res.req.method === 'HEAD' ? undefined : answer.body);
}

const refused = (status: number, error: string): Answer => ({ status, type: 'json', body: JSON.stringify({ error }) });

function answer(context: RouteContext & { collect?: () => void }, req: IncomingMessage, res: ServerResponse, guard: { token?: string; hosts: Set<string> }): void {
  if (!guard.hosts.has(req.headers.host ?? '')) return send(res, refused(403, 'this Host is not the address batt serve listens on'));
  if (guard.token) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(given), digest(guard.token))) return send(res, refused(403, 'a valid "Authorization: Bearer <token>" is required'));
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, refused(405, 'read-only: GET and HEAD only'));
  const url = new URL(req.url ?? '/', 'http://batt');
  context.collect?.();
  send(res, route(context, url.pathname, url.searchParams));
}
