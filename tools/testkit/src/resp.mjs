// A minimal RESP2 client: raw commands in, raw replies out, binary safe.
// ioredis would reshape replies (numbers, errors, pub/sub) before we could see
// them; the Upstash endpoint must pass redis' answers through untouched.
import net from 'node:net';

/** An error reply from redis (`-ERR ...`). It is a value, not a thrown error, inside arrays. */
export class RespError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'RespError';
  }
}

/**
 * A RESP2 reply: simple strings are JS strings, bulk strings are Buffers,
 * integers are numbers, nil is null, errors are RespError values.
 * (Arrays hold RespReply values; JSDoc cannot say so without a circular alias.)
 * @typedef {string | Buffer | number | null | RespError | any[]} RespReply
 */

const CRLF = Buffer.from('\r\n');
const INCOMPLETE = Symbol('incomplete');

/**
 * Encodes one command as a RESP array of bulk strings.
 * @param {ReadonlyArray<string | Buffer>} args
 * @returns {Buffer[]}
 */
export function encodeCommand(args) {
  /** @type {Buffer[]} */
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return parts;
}

/**
 * Parses one reply starting at `offset`.
 * @param {Buffer} buf
 * @param {number} offset
 * @param {{ need: number }} hint  set to the buffer length that would let parsing progress
 * @returns {{ value: RespReply, end: number } | typeof INCOMPLETE}
 */
function parseReply(buf, offset, hint) {
  if (offset >= buf.length) {
    hint.need = offset + 1;
    return INCOMPLETE;
  }
  const lineEnd = buf.indexOf(CRLF, offset);
  if (lineEnd === -1) {
    hint.need = buf.length + 1;
    return INCOMPLETE;
  }
  const type = buf[offset];
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // '+'
      return { value: line, end: next };
    case 0x2d: // '-'
      return { value: new RespError(line), end: next };
    case 0x3a: // ':'
      return { value: Number(line), end: next };
    case 0x24: { // '$'
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) {
        // A big value arrives in many chunks; wait for all of it instead of reparsing per chunk.
        hint.need = next + len + 2;
        return INCOMPLETE;
      }
      return { value: Buffer.from(buf.subarray(next, next + len)), end: next + len + 2 };
    }
    case 0x2a: { // '*'
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      /** @type {RespReply[]} */
      const items = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos, hint);
        if (item === INCOMPLETE) return INCOMPLETE;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`RESP protocol error: unexpected type byte 0x${type.toString(16)}`);
  }
}

/**
 * @typedef {object} RespConnectionOptions
 * @property {string} [host]
 * @property {number} port
 * @property {string} [username]
 * @property {string} [password]
 * @property {number} [db]
 * @property {number} [connectTimeoutMs] (default: 2000)
 * @property {(reply: RespReply) => void} [onPush]  replies that answer no pending command (pub/sub)
 */

/** One TCP connection to redis with pipelined, in-order replies. */
export class RespConnection {
  /** @type {net.Socket} */
  #socket;
  /** @type {Array<{ resolve: (r: RespReply) => void, reject: (e: Error) => void }>} */
  #pending = [];
  /** @type {Buffer[]} */
  #chunks = [];
  #buffered = 0;
  #need = 1;
  /** @type {Error | undefined} */
  #closedWith;
  /** @type {((reply: RespReply) => void) | undefined} */
  #onPush;

  /** @param {net.Socket} socket @param {((reply: RespReply) => void) | undefined} onPush */
  constructor(socket, onPush) {
    this.#socket = socket;
    this.#onPush = onPush;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('redis connection closed')));
  }

  /**
   * Opens a connection (and AUTH/SELECT when asked).
   * @param {RespConnectionOptions} options
   * @returns {Promise<RespConnection>}
   */
  static async connect(options) {
    const { host = '127.0.0.1', port, connectTimeoutMs = 2000 } = options;
    const socket = await new Promise((resolve, reject) => {
      const s = net.createConnection({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`redis connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeListener('error', onError);
        resolve(s);
      });
      const onError = (/** @type {Error} */ err) => {
        clearTimeout(timer);
        reject(new Error(`redis connect to ${host}:${port} failed: ${err.message}`, { cause: err }));
      };
      s.once('error', onError);
    });
    socket.setNoDelay(true);
    const conn = new RespConnection(socket, options.onPush);
    /** @type {Array<Array<string>>} */
    const init = [];
    if (options.password) {
      init.push(options.username ? ['AUTH', options.username, options.password] : ['AUTH', options.password]);
    }
    if (options.db) init.push(['SELECT', String(options.db)]);
    if (init.length > 0) {
      const replies = await conn.send(init);
      const err = replies.find((r) => r instanceof RespError);
      if (err) {
        conn.close();
        throw new Error(`redis connection setup failed: ${/** @type {RespError} */ (err).message}`);
      }
    }
    return conn;
  }

  /** True once the socket failed or closed; such a connection must be dropped. */
  get closed() {
    return this.#closedWith !== undefined;
  }

  /**
   * Sends commands in one write; resolves with their replies in order.
   * Error replies are RespError values in the array, not rejections.
   * @param {ReadonlyArray<ReadonlyArray<string | Buffer>>} commands
   * @returns {Promise<RespReply[]>}
   */
  send(commands) {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    const promises = commands.map(
      () => new Promise((resolve, reject) => this.#pending.push({ resolve, reject })),
    );
    this.#socket.write(Buffer.concat(commands.flatMap((c) => encodeCommand(c))));
    return /** @type {Promise<RespReply[]>} */ (Promise.all(promises));
  }

  /**
   * Writes commands whose replies all go to `onPush` (SUBSCRIBE answers once per channel).
   * @param {ReadonlyArray<ReadonlyArray<string | Buffer>>} commands
   */
  write(commands) {
    this.#socket.write(Buffer.concat(commands.flatMap((c) => encodeCommand(c))));
  }

  /** Closes the socket; pending commands reject. */
  close() {
    this.#socket.destroy();
    this.#fail(new Error('redis connection closed by client'));
  }

  /** @param {Buffer} chunk */
  #onData(chunk) {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered < this.#need) return;
    let buf = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    let offset = 0;
    const hint = { need: 0 };
    for (;;) {
      let parsed;
      try {
        parsed = parseReply(buf, offset, hint);
      } catch (err) {
        this.#socket.destroy();
        this.#fail(/** @type {Error} */ (err));
        return;
      }
      if (parsed === INCOMPLETE) break;
      offset = parsed.end;
      const waiter = this.#pending.shift();
      if (waiter) waiter.resolve(parsed.value);
      else this.#onPush?.(parsed.value);
    }
    buf = buf.subarray(offset);
    this.#chunks = buf.length > 0 ? [buf] : [];
    this.#buffered = buf.length;
    this.#need = buf.length > 0 ? hint.need - offset : 1;
  }

  /** @param {Error} err */
  #fail(err) {
    if (this.#closedWith) return;
    this.#closedWith = err;
    for (const waiter of this.#pending.splice(0)) waiter.reject(err);
  }
}

/**
 * Parses `redis://[user:pass@]host:port[/db]` into connection options.
 * @param {string} redisUrl
 * @returns {RespConnectionOptions}
 */
export function parseRedisUrl(redisUrl) {
  const url = new URL(redisUrl);
  if (url.protocol !== 'redis:') {
    throw new TypeError(`redisUrl must start with redis:// (got ${JSON.stringify(redisUrl)}); TLS is not supported`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
  };
}
