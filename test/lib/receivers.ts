/**
 * The receivers notification tests start, each on a free loopback port and stopped by `close()`:
 * an HTTP server that records every request (and answers as told: 200, 500 for the first N, or
 * never), and a real SMTP server (smtp-server from npm) that records every mail and login.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  method: string;
  /** The path and query, e.g. /ping/abc/start. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: Received[];
  /** `hang`: never answers; a number n: answers 500 to the first n requests, then 200. */
  answer: 'ok' | 'hang' | number;
  /** Waits until `count` requests came (fails after `ms`). */
  waitFor(count: number, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

async function until(what: string, done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startHttpReceiver(answer: HttpReceiver['answer'] = 'ok'): Promise<HttpReceiver> {
  const requests: Received[] = [];
  const held: ServerResponse[] = [];
  const receiver = { answer } as HttpReceiver;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const mode = receiver.answer;
      if (mode === 'hang') return void held.push(res);
      const fail = typeof mode === 'number' && requests.length <= mode;
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end(fail ? 'try again' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    requests,
    async waitFor(count: number, ms = 10_000) {
      await until(`${count} requests (got ${requests.length})`, () => requests.length >= count, ms);
      return requests;
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

export interface Mail {
  from: string;
  to: string[];
  /** The message as it came, headers and body. */
  raw: string;
  /** Who logged in to send it. */
  user?: string;
}

export interface SmtpReceiver {
  port: number;
  mails: Mail[];
  waitFor(count: number, ms?: number): Promise<Mail[]>;
  close(): Promise<void>;
}

/** An SMTP server without TLS that takes a login as `user` with `password` only (any other is refused, 535). */
export async function startSmtp(user: string, password: string): Promise<SmtpReceiver> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    async waitFor(count: number, ms = 10_000) {
      await until(`${count} mails (got ${mails.length})`, () => mails.length >= count, ms);
      return mails;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A quoted-printable body as text: soft line breaks joined, =XX decoded as UTF-8. */
export function fromQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}
