/**
 * A small pipelining Redis client over a socket, for the restore's key copy: commands go out in
 * batches as RESP, replies come back in order. Keys and values stay Buffers (binary-safe), and
 * the password travels in an AUTH command on the connection, never in an argv.
 */
import { connect, type Socket } from 'node:net';
import { BattError } from '@batt/core/kit';
import type { Connection } from './args.js';

export type Reply = Buffer | string | number | null | Error | Reply[];
/** A command and its arguments; strings go as UTF-8, numbers (≥ 0) as their digits. */
export type Command = readonly (string | Buffer | number)[];

/** Commands as one RESP buffer. Lengths and numbers are written digit by digit and short arguments byte by byte: a million keys make five million arguments, and a call per piece costs more than the piece. */
export function encodeCommands(commands: readonly Command[]): Buffer {
  let size = 0;
  for (const c of commands) for (const a of c) size += (typeof a === 'number' ? 20 : typeof a === 'string' ? Buffer.byteLength(a) : a.length) + 16;
  const out = Buffer.allocUnsafe(size + commands.length * 16);
  let p = 0;
  for (const c of commands) {
    out[p++] = 0x2a; // *
    p = putInt(out, p, c.length);
    for (const a of c) {
      const arg = typeof a === 'number' ? Buffer.from(String(a), 'latin1') : typeof a === 'string' ? Buffer.from(a) : a;
      out[p++] = 0x24; // $
      p = putInt(out, p, arg.length);
      if (arg.length > 64) p += arg.copy(out, p);
      else for (let i = 0; i < arg.length; i++) out[p++] = arg[i];
      out[p++] = 0x0d;
      out[p++] = 0x0a;
    }
  }
  return out.subarray(0, p);
}

/** Writes n (≥ 0) and CRLF at p; returns the position after them. */
function putInt(out: Buffer, p: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = p + digits - 1; i >= p; i--, n = Math.floor(n / 10)) out[i] = 0x30 + (n % 10);
  out[p + digits] = 0x0d;
  out[p + digits + 1] = 0x0a;
  return p + digits + 2;
}

/** Parses replies as they arrive, chunk by chunk; an array too big for one chunk is resumed, never parsed again from its start. */
export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private readonly open: { items: Reply[]; filled: number }[] = [];
  /** A bulk value longer than what has come: its pieces so far and the bytes it needs, joined once they are all here (a 100 MB value is not copied again at every chunk). */
  private waiting: { parts: Buffer[]; have: number; need: number } | null = null;

  constructor(private readonly onReply: (reply: Reply) => void) {}

  push(chunk: Buffer): void {
    if (this.waiting) {
      const w = this.waiting;
      w.parts.push(chunk);
      w.have += chunk.length;
      if (w.have < w.need) return;
      this.waiting = null;
      this.buf = Buffer.concat(w.parts);
    } else this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    const b = this.buf;
    for (;;) {
      const eol = b.indexOf(13, this.pos);
      if (eol < 0 || eol + 1 >= b.length) return;
      const type = b[this.pos];
      if (type === 0x24 /* $ */) {
        const n = integerAt(b, this.pos + 1, eol);
        if (n >= 0 && eol + n + 4 > b.length) {
          const rest = b.subarray(this.pos);
          this.waiting = { parts: [rest], have: rest.length, need: eol + n + 4 - this.pos };
          return;
        }
        this.pos = n < 0 ? eol + 2 : eol + n + 4;
        this.deliver(n < 0 ? null : b.subarray(eol + 2, eol + 2 + n));
        continue;
      }
      const line = b.toString('latin1', this.pos + 1, eol);
      this.pos = eol + 2;
      if (type === 0x2b /* + */) this.deliver(line);
      else if (type === 0x2d /* - */) this.deliver(new Error(line));
      else if (type === 0x3a /* : */) this.deliver(Number(line));
      else if (type === 0x2a /* * */) {
        const n = Number(line);
        if (n > 0) this.open.push({ items: new Array<Reply>(n), filled: 0 });
        else this.deliver(n < 0 ? null : []);
      } else throw new BattError('TOOL_FAILED', `redis: a reply batt cannot read (type byte ${type})`);
    }
  }

  private deliver(reply: Reply): void {
    for (;;) {
      const top = this.open.at(-1);
      if (!top) return this.onReply(reply);
      top.items[top.filled++] = reply;
      if (top.filled < top.items.length) return;
      this.open.pop();
      reply = top.items;
    }
  }
}

/** The integer written in b[from, to), without making a string of it (a million keys are a million lengths). */
function integerAt(b: Buffer, from: number, to: number): number {
  const negative = b[from] === 0x2d;
  let n = 0;
  for (let i = negative ? from + 1 : from; i < to; i++) n = n * 10 + b[i] - 0x30;
  return negative ? -n : n;
}

export class RespClient {
  private readonly waiting: { count: number; replies: Reply[]; resolve(r: Reply[]): void; reject(e: Error): void }[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly name: string,
  ) {
    const parser = new ReplyParser((reply) => {
      const w = this.waiting[0];
      w.replies.push(reply);
      if (w.replies.length === w.count) this.waiting.shift()?.resolve(w.replies);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the connection closed')));
  }

  /** Connects (Unix socket or TCP) and authenticates; fails with the reason redis-cli would print. */
  static async open(conn: Connection): Promise<RespClient> {
    const name = conn.socket ?? `${conn.host}:${conn.port}`;
    const socket = conn.socket ? connect({ path: conn.socket }) : connect({ host: conn.host, port: conn.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (error) => reject(new BattError('TOOL_FAILED', `Could not connect to Redis at ${name}: ${error.message}`)));
    });
    socket.setNoDelay(true);
    const client = new RespClient(socket, name);
    if (conn.password) {
      const [reply] = await client.call([conn.user ? ['AUTH', conn.user, conn.password] : ['AUTH', conn.password]]).catch((error: Error) => {
        client.close();
        throw error;
      });
      if (reply instanceof Error) {
        client.close();
        throw new BattError('TOOL_FAILED', `AUTH failed: ${reply.message}`);
      }
    }
    return client;
  }

  /** Sends the commands in one write; resolves with their replies in order (server errors as Error values). */
  call(commands: readonly Command[]): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ count: commands.length, replies: [], resolve, reject });
      this.socket.write(encodeCommands(commands));
    });
  }

  /** The address the server sees this connection come from (undefined on a Unix socket). */
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  close(): void {
    this.failure ??= new Error('closed by batt');
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = new BattError('TOOL_FAILED', `redis at ${this.name}: ${error.message}`);
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
    this.socket.destroy();
  }
}

/** The first server error among replies, as a message. */
export function firstError(replies: readonly Reply[]): string | undefined {
  return replies.find((r): r is Error => r instanceof Error)?.message;
}
