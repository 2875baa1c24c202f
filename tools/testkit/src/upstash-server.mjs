// An Upstash-compatible REST endpoint over a real redis-server, for tests.
//
// Protocol as the @upstash/redis 1.39 client speaks it (pkg/http.ts, pipeline.ts):
// - POST /            body ["CMD", ...args]          -> {"result": r} | 400 {"error": e}
// - POST /pipeline    body [["CMD", ...], ...]       -> [{"result": r} | {"error": e}, ...]
// - POST /multi-exec  same, inside MULTI/EXEC         -> same shape; a discarded transaction is 400
// - GET|POST /cmd/arg/...  path style; a POST body is the last argument, query params follow it
// - GET|POST /subscribe/ch..., /psubscribe/pat...   server-sent events "data: message,ch,payload"
// - Authorization: Bearer <token> or ?_token=; 401 {"error": "Unauthorized"} otherwise
// - Upstash-Encoding: base64: every string in a result is base64 of its bytes,
//   except a top-level simple-string "OK", which the client keeps as is. Integers
//   stay JSON numbers, nil stays null; error texts are never encoded.
// The client throws UpstashError(body.error) for any non-2xx status whose body is
// JSON, and UpstashJSONParseError otherwise, so every error body here is JSON.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { RespConnection, RespError, parseRedisUrl } from './resp.mjs';

/** @typedef {import('./resp.mjs').RespReply} RespReply */

/**
 * @typedef {'ok' | 'error500' | 'slow' | 'down'} FaultMode
 * @typedef {object} Fault
 * @property {FaultMode} mode  'ok' answers normally; 'error500' answers 500 {"error"}; 'slow' waits delayMs
 *   before handling the request; 'down' destroys the socket without answering
 * @property {number} [delayMs]  for 'slow' (default: 1000)
 * @property {number} [count]  apply to this many requests, then return to 'ok' (default: unlimited)
 */

/**
 * @typedef {object} UpstashStats
 * @property {number} requests  HTTP requests to the Redis API (not /__testkit/*), whatever their outcome
 * @property {number} commands  Redis commands executed (a pipeline of 3 counts 3)
 * @property {Record<string, number>} byPath  requests per path: '/', '/pipeline', '/multi-exec', '/get', ...
 * @property {Record<string, number>} byCommand  executed commands per upper-case name
 * @property {number} faulted  requests answered (or dropped) by an injected fault
 * @property {number} unauthorized  requests rejected with 401
 */

const FAULT_MODES = new Set(['ok', 'error500', 'slow', 'down']);

// These change connection state or never return; pooled connections must not see them.
const NOT_OVER_REST = new Set([
  'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'SELECT', 'SWAPDB', 'QUIT', 'RESET', 'HELLO', 'AUTH',
  'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE',
  'MONITOR', 'SYNC', 'PSYNC', 'SHUTDOWN', 'REPLICAOF', 'SLAVEOF',
]);

/**
 * Validates a fault; accepts a bare mode string.
 * @param {Fault | FaultMode} input
 * @returns {Required<Pick<Fault, 'mode' | 'delayMs'>> & { count: number }}
 */
export function normalizeFault(input) {
  const fault = typeof input === 'string' ? { mode: input } : input;
  if (!fault || typeof fault !== 'object' || !FAULT_MODES.has(/** @type {any} */ (fault).mode)) {
    throw new TypeError(`fault.mode must be one of ${[...FAULT_MODES].join(', ')} (got ${JSON.stringify(fault)})`);
  }
  const delayMs = fault.delayMs ?? 1000;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new RangeError(`fault.delayMs must be a finite number >= 0 (got ${JSON.stringify(fault.delayMs)})`);
  }
  const count = fault.count ?? Infinity;
  if (typeof count !== 'number' || !(count > 0) || (Number.isFinite(count) && !Number.isInteger(count))) {
    throw new RangeError(`fault.count must be a positive integer (got ${JSON.stringify(fault.count)})`);
  }
  return { mode: fault.mode, delayMs, count };
}

/**
 * A reply as Upstash's JSON shows it.
 * @param {RespReply} reply
 * @param {boolean} base64
 * @param {boolean} top  only a top-level "OK" escapes base64: the client decodes "OK" inside arrays
 * @returns {unknown}
 */
function toJson(reply, base64, top) {
  if (reply === null || typeof reply === 'number') return reply;
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8');
  if (typeof reply === 'string') {
    return base64 && !(top && reply === 'OK') ? Buffer.from(reply, 'utf8').toString('base64') : reply;
  }
  if (reply instanceof RespError) return toJson(reply.message, base64, false);
  return reply.map((item) => toJson(item, base64, false));
}

/**
 * @param {RespReply} reply
 * @param {boolean} base64
 */
function toItem(reply, base64) {
  return reply instanceof RespError ? { error: reply.message } : { result: toJson(reply, base64, true) };
}

class RequestError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * One command from a JSON body: a non-empty array of strings, numbers or booleans.
 * @param {unknown} value
 * @returns {string[]}
 */
function parseCommand(value) {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RequestError(400, 'ERR failed to parse command: expected a non-empty JSON array');
  }
  return value.map((arg) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' || typeof arg === 'boolean') return String(arg);
    throw new RequestError(400, `ERR failed to parse command: argument ${JSON.stringify(arg)} is not a string, number or boolean`);
  });
}

/** @param {Buffer} body */
function parseJsonBody(body) {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RequestError(400, `ERR failed to parse JSON body: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * @param {string[]} command
 */
function assertAllowed(command) {
  const name = command[0].toUpperCase();
  if (NOT_OVER_REST.has(name)) {
    throw new RequestError(
      400,
      `ERR ${name} is not supported over the REST API${name === 'MULTI' || name === 'EXEC' ? ' (use /multi-exec)' : ''}`,
    );
  }
}

/** @param {string} segment */
function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, `ERR malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
  }
}

/** @param {http.IncomingMessage} req @returns {Promise<Buffer>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} payload
 */
function sendJson(res, status, payload) {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * @typedef {object} StartUpstashServerOptions
 * @property {string} redisUrl  the redis-server behind it, e.g. startRedis().url
 * @property {string} [token]  bearer token clients must send (default: a random hex string)
 * @property {number} [port] (default: a free port picked by the OS)
 */

/**
 * @typedef {object} UpstashServer
 * @property {string} url  `http://127.0.0.1:PORT`
 * @property {number} port
 * @property {string} token
 * @property {() => UpstashStats} stats
 * @property {() => void} resetStats
 * @property {(count: number, options?: { timeoutMs?: number }) => Promise<void>} waitForRequests
 *   resolves once `stats().requests` reaches count (counted when a request arrives, before any fault)
 * @property {() => Promise<void>} flushAll  FLUSHALL on the redis behind it
 * @property {(fault: Fault | FaultMode) => void} setFault
 * @property {() => Promise<void>} stop
 */

/**
 * Starts an Upstash-compatible REST endpoint on 127.0.0.1 over a real redis-server.
 * The same control is available over HTTP (same bearer token) for code that can only
 * reach it that way, such as tests inside workerd:
 * `GET /__testkit/stats`, `POST /__testkit/reset[?flush=1]`, `GET|POST /__testkit/fault`.
 * @param {StartUpstashServerOptions} options
 * @returns {Promise<UpstashServer>}
 * @example
 * const redis = await startRedis();
 * const upstash = await startUpstashServer({ redisUrl: redis.url });
 * const client = new Redis({ url: upstash.url, token: upstash.token });
 */
export async function startUpstashServer(options) {
  if (!options || typeof options.redisUrl !== 'string') {
    throw new TypeError('startUpstashServer: options.redisUrl (redis://host:port) is required');
  }
  const connOptions = parseRedisUrl(options.redisUrl);
  const token = options.token ?? randomBytes(16).toString('hex');
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError('startUpstashServer: options.token must be a non-empty string');
  }

  // One connection per request in flight, reused afterwards: MULTI/EXEC and
  // blocking commands then never interleave with other requests.
  /** @type {RespConnection[]} */
  const idle = [];
  /** @type {Set<RespConnection>} */
  const busy = new Set();
  let stopped = false;

  async function withConnection(/** @type {(c: RespConnection) => Promise<any>} */ fn) {
    let conn = idle.pop();
    // A connection that died while idle (redis restarted) is dropped, not used.
    while (conn?.closed) conn = idle.pop();
    if (!conn) {
      try {
        conn = await RespConnection.connect({ ...connOptions, connectTimeoutMs: 2000 });
      } catch (err) {
        throw new RequestError(500, `ERR redis unavailable: ${/** @type {Error} */ (err).message}`);
      }
    }
    busy.add(conn);
    let healthy = false;
    try {
      const result = await fn(conn);
      healthy = true;
      return result;
    } catch (err) {
      if (err instanceof RequestError) throw err;
      throw new RequestError(500, `ERR redis unavailable: ${/** @type {Error} */ (err).message}`);
    } finally {
      busy.delete(conn);
      if (healthy && !conn.closed && !stopped && idle.length < 32) idle.push(conn);
      else conn.close();
    }
  }

  /** @type {UpstashStats} */
  let counters = freshStats();
  function freshStats() {
    return { requests: 0, commands: 0, byPath: {}, byCommand: {}, faulted: 0, unauthorized: 0 };
  }
  /** @param {string[][]} commands */
  function countCommands(commands) {
    counters.commands += commands.length;
    for (const command of commands) {
      const name = command[0].toUpperCase();
      counters.byCommand[name] = (counters.byCommand[name] ?? 0) + 1;
    }
  }

  /** @type {Set<{ count: number, resolve: () => void }>} */
  const requestWaiters = new Set();
  function notifyWaiters() {
    for (const waiter of requestWaiters) {
      if (counters.requests >= waiter.count) {
        requestWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  let fault = normalizeFault('ok');
  /** @type {Set<() => void>} */
  const wakeups = new Set();

  /** Waits ms, or less when the server stops. @param {number} ms */
  function delay(ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakeups.delete(done);
        resolve(undefined);
      };
      const timer = setTimeout(done, ms);
      wakeups.add(done);
    });
  }

  /**
   * The fault this request gets, consuming one use of a counted fault.
   * @returns {ReturnType<typeof normalizeFault>}
   */
  function takeFault() {
    const current = fault;
    if (current.mode === 'ok') return current;
    current.count -= 1;
    if (current.count <= 0) fault = normalizeFault('ok');
    return current;
  }

  /** @param {string[]} command */
  async function runSingle(command) {
    assertAllowed(command);
    return withConnection(async (conn) => {
      countCommands([command]);
      const [reply] = await conn.send([command]);
      return reply;
    });
  }

  /** @param {unknown} body @param {boolean} base64 */
  async function runPipeline(body, base64) {
    if (!Array.isArray(body) || body.length === 0) {
      throw new RequestError(400, 'ERR failed to parse pipeline request: expected a non-empty array of commands');
    }
    const commands = body.map(parseCommand);
    /** @type {Array<{ error: string } | undefined>} */
    const refused = commands.map((command) => {
      try {
        assertAllowed(command);
        return undefined;
      } catch (err) {
        return { error: /** @type {Error} */ (err).message };
      }
    });
    const toSend = commands.filter((_, i) => !refused[i]);
    const replies = toSend.length === 0 ? [] : await withConnection(async (conn) => {
      countCommands(toSend);
      return conn.send(toSend);
    });
    let next = 0;
    return commands.map((_, i) => refused[i] ?? toItem(replies[next++], base64));
  }

  /** @param {unknown} body @param {boolean} base64 */
  async function runMultiExec(body, base64) {
    if (!Array.isArray(body) || body.length === 0) {
      throw new RequestError(400, 'ERR failed to parse multi-exec request: expected a non-empty array of commands');
    }
    const commands = body.map(parseCommand);
    commands.forEach(assertAllowed);
    /** @type {RespReply[]} */
    const replies = await withConnection(async (conn) => {
      countCommands(commands);
      return conn.send([['MULTI'], ...commands, ['EXEC']]);
    });
    const queued = replies.slice(1, -1);
    const exec = replies[replies.length - 1];
    if (exec instanceof RespError) {
      const cause = queued.find((r) => r instanceof RespError);
      throw new RequestError(400, cause ? `${exec.message} ${/** @type {RespError} */ (cause).message}` : exec.message);
    }
    if (!Array.isArray(exec)) throw new RequestError(400, 'ERR transaction aborted');
    return exec.map((/** @type {RespReply} */ reply) => toItem(reply, base64));
  }

  /**
   * Server-sent events for /subscribe and /psubscribe, as the client's Subscriber reads them.
   * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string[]} command
   */
  async function runSubscribe(req, res, command) {
    const toText = (/** @type {RespReply} */ r) => (Buffer.isBuffer(r) ? r.toString('utf8') : String(r));
    /** @type {RespConnection} */
    let conn;
    try {
      conn = await RespConnection.connect({
        ...connOptions,
        onPush: (reply) => {
          if (Array.isArray(reply)) res.write(`data: ${reply.map(toText).join(',')}\n\n`);
        },
      });
    } catch (err) {
      throw new RequestError(500, `ERR redis unavailable: ${/** @type {Error} */ (err).message}`);
    }
    countCommands([command]);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    conn.write([command]);
    res.on('close', () => conn.close());
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {URL} url */
  async function handleControl(req, res, url) {
    await readBody(req).then((body) => {
      const route = `${req.method} ${url.pathname}`;
      switch (route) {
        case 'GET /__testkit/stats':
          return sendJson(res, 200, api.stats());
        case 'POST /__testkit/reset':
          api.resetStats();
          if (url.searchParams.get('flush') === '1') {
            return api.flushAll().then(() => sendJson(res, 200, { ok: true, flushed: true }));
          }
          return sendJson(res, 200, { ok: true, flushed: false });
        case 'GET /__testkit/fault':
          return sendJson(res, 200, { mode: fault.mode, delayMs: fault.delayMs, count: Number.isFinite(fault.count) ? fault.count : null });
        case 'POST /__testkit/fault': {
          const input = parseJsonBody(body);
          try {
            api.setFault(input);
          } catch (err) {
            throw new RequestError(400, /** @type {Error} */ (err).message);
          }
          return sendJson(res, 200, { ok: true, mode: fault.mode });
        }
        default:
          throw new RequestError(404, `testkit: no control endpoint ${route}`);
      }
    });
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  async function handle(req, res) {
    // Concatenate rather than resolve: a path starting with // must stay a path, not become a host.
    const url = new URL(`http://127.0.0.1${req.url ?? '/'}`);
    const auth = req.headers.authorization;
    const given = auth === undefined ? url.searchParams.get('_token') : /^Bearer (.+)$/i.exec(auth)?.[1];
    const control = url.pathname.startsWith('/__testkit/');

    if (!control) {
      counters.requests += 1;
      notifyWaiters();
      const segments = url.pathname.split('/').filter(Boolean);
      const pathKey = segments.length === 0 ? '/' : `/${segments[0].toLowerCase()}`;
      counters.byPath[pathKey] = (counters.byPath[pathKey] ?? 0) + 1;

      const current = takeFault();
      if (current.mode !== 'ok') counters.faulted += 1;
      if (current.mode === 'down') {
        req.socket.destroy();
        return;
      }
      if (current.mode === 'error500') {
        await readBody(req);
        return sendJson(res, 500, { error: 'ERR testkit injected fault: error500' });
      }
      if (current.mode === 'slow') {
        await delay(current.delayMs);
        // A client that gave up must not see its command applied later.
        if (stopped || res.destroyed || req.socket.destroyed) return;
      }
    }

    if (given !== token) {
      await readBody(req);
      if (!control) counters.unauthorized += 1;
      return sendJson(res, 401, { error: 'Unauthorized' });
    }
    if (control) return handleControl(req, res, url);

    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    const method = req.method ?? 'GET';
    if (!['GET', 'POST', 'PUT', 'HEAD'].includes(method)) {
      await readBody(req);
      throw new RequestError(405, `ERR method ${method} is not allowed`);
    }
    const body = await readBody(req);

    if (url.pathname === '/pipeline') return sendJson(res, 200, await runPipeline(parseJsonBody(body), base64));
    if (url.pathname === '/multi-exec') return sendJson(res, 200, await runMultiExec(parseJsonBody(body), base64));

    /** @type {string[]} */
    let command;
    if (url.pathname === '/' || url.pathname === '') {
      if (body.length === 0) throw new RequestError(400, 'ERR empty command: POST a JSON array such as ["GET","key"]');
      command = parseCommand(parseJsonBody(body));
    } else {
      const segments = url.pathname.slice(1).split('/').map(decodeSegment);
      if (segments.at(-1) === '') segments.pop();
      const name = segments[0].toLowerCase();
      if (name === 'subscribe' || name === 'psubscribe') {
        // The client posts "[]" here; the channels are in the path.
        return runSubscribe(req, res, [name.toUpperCase(), ...segments.slice(1)]);
      }
      /** @type {Array<string | Buffer>} */
      const args = segments;
      // Upstash appends a POST body as the last argument, then the query parameters.
      if (method !== 'GET' && body.length > 0) args.push(body);
      for (const [key, value] of url.searchParams) {
        if (key === '_token') continue;
        args.push(key);
        if (value !== '') args.push(value);
      }
      command = /** @type {string[]} */ (args);
    }
    const reply = await runSingle(command);
    if (reply instanceof RespError) return sendJson(res, 400, { error: reply.message });
    return sendJson(res, 200, { result: toJson(reply, base64, true) });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof RequestError ? err.status : 500;
      sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve(undefined);
    });
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;

  /** @type {UpstashServer} */
  const api = {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    stats: () => structuredClone(counters),
    resetStats: () => {
      counters = freshStats();
    },
    waitForRequests: (count, { timeoutMs = 5000 } = {}) => {
      if (counters.requests >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          requestWaiters.delete(waiter);
          reject(new Error(`waitForRequests: ${counters.requests} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        requestWaiters.add(waiter);
      });
    },
    flushAll: async () => {
      const [reply] = await withConnection((conn) => conn.send([['FLUSHALL']]));
      if (reply instanceof RespError) throw new Error(`FLUSHALL failed: ${reply.message}`);
    },
    setFault: (input) => {
      fault = normalizeFault(input);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const wake of [...wakeups]) wake();
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
      server.closeAllConnections();
      for (const conn of [...idle.splice(0), ...busy]) conn.close();
      await closed;
    },
  };
  return api;
}
