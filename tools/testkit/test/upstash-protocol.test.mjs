// The wire format, checked with plain fetch: what the client relies on (see src/upstash-server.mjs).
import { describe, expect, inject, it } from 'vitest';
import { prefix } from './helpers.mjs';

const url = inject('UPSTASH_TEST_URL');
const token = inject('UPSTASH_TEST_TOKEN');
const p = prefix('proto');
const b64 = (/** @type {string} */ s) => Buffer.from(s, 'utf8').toString('base64');

/**
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ base64?: boolean, method?: string, headers?: Record<string, string>, rawBody?: BodyInit }} [opts]
 */
async function call(path, body, opts = {}) {
  const res = await fetch(`${url}${path}`, {
    method: opts.method ?? 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(opts.base64 ? { 'upstash-encoding': 'base64' } : {}),
      ...opts.headers,
    },
    body: opts.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: res.status, json: await res.json() };
}

describe('single command: POST /', () => {
  it('answers {result}, with ints as numbers and nil as null', async () => {
    expect(await call('/', ['SET', `${p}a`, 'value'])).toEqual({ status: 200, json: { result: 'OK' } });
    expect(await call('/', ['GET', `${p}a`])).toEqual({ status: 200, json: { result: 'value' } });
    expect(await call('/', ['STRLEN', `${p}a`])).toEqual({ status: 200, json: { result: 5 } });
    expect(await call('/', ['GET', `${p}missing`])).toEqual({ status: 200, json: { result: null } });
  });

  it('accepts numbers and booleans as arguments', async () => {
    expect((await call('/', ['SET', `${p}num`, 12.5, 'PX', 60000])).json).toEqual({ result: 'OK' });
    expect((await call('/', ['GET', `${p}num`])).json).toEqual({ result: '12.5' });
    expect((await call('/', ['SET', `${p}bool`, true])).json).toEqual({ result: 'OK' });
    expect((await call('/', ['GET', `${p}bool`])).json).toEqual({ result: 'true' });
  });

  it('a command error is HTTP 400 {error} with the redis text', async () => {
    await call('/', ['SET', `${p}str`, 'abc']);
    expect(await call('/', ['INCR', `${p}str`])).toEqual({
      status: 400,
      json: { error: 'ERR value is not an integer or out of range' },
    });
    const unknown = await call('/', ['NOSUCHCOMMAND']);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatch(/^ERR unknown command/);
  });

  it('malformed bodies are 400 {error}', async () => {
    for (const rawBody of ['not json', '[]', '{}', '[["nested"]]', '[{"a":1}]']) {
      const res = await call('/', undefined, { rawBody });
      expect(res.status, rawBody).toBe(400);
      expect(res.json.error, rawBody).toMatch(/^ERR/);
    }
  });

  it('refuses connection-state commands', async () => {
    for (const cmd of [['MULTI'], ['SELECT', '1'], ['SUBSCRIBE', 'x'], ['WATCH', 'k']]) {
      const res = await call('/', cmd);
      expect(res.status, cmd[0]).toBe(400);
      expect(res.json.error).toMatch(/not supported over the REST API/);
    }
  });
});

describe('Upstash-Encoding: base64', () => {
  it('encodes bulk and simple strings, except a top-level "OK"', async () => {
    expect((await call('/', ['SET', `${p}e`, 'héllo'], { base64: true })).json).toEqual({ result: 'OK' });
    expect((await call('/', ['GET', `${p}e`], { base64: true })).json).toEqual({ result: b64('héllo') });
    expect((await call('/', ['PING'], { base64: true })).json).toEqual({ result: b64('PONG') });
    expect((await call('/', ['TYPE', `${p}e`], { base64: true })).json).toEqual({ result: b64('string') });
  });

  it('leaves integers and nulls alone and encodes strings inside arrays, "OK" included', async () => {
    await call('/', ['RPUSH', `${p}list`, 'OK', 'é', '']);
    expect((await call('/', ['LRANGE', `${p}list`, 0, -1], { base64: true })).json).toEqual({
      result: [b64('OK'), b64('é'), ''],
    });
    expect((await call('/', ['MGET', `${p}e`, `${p}missing`], { base64: true })).json).toEqual({
      result: [b64('héllo'), null],
    });
    expect((await call('/', ['EVAL', 'return {1, {2, "x"}, "OK"}', 0], { base64: true })).json).toEqual({
      result: [1, [2, b64('x')], b64('OK')],
    });
    expect((await call('/', ['INCR', `${p}cnt`], { base64: true })).json).toEqual({ result: 1 });
  });

  it('keeps non-UTF-8 bytes exact', async () => {
    await call('/', ['EVAL', "redis.call('set', KEYS[1], string.char(0, 255, 128, 10)) return 1", 1, `${p}bytes`]);
    expect((await call('/', ['GET', `${p}bytes`], { base64: true })).json).toEqual({
      result: Buffer.from([0, 255, 128, 10]).toString('base64'),
    });
  });

  it('never encodes error texts', async () => {
    expect(await call('/', ['INCR', `${p}e`], { base64: true })).toEqual({
      status: 400,
      json: { error: 'ERR value is not an integer or out of range' },
    });
  });
});

describe('POST /pipeline', () => {
  it('answers an array of {result} / {error}, in order', async () => {
    const res = await call(
      '/pipeline',
      [['SET', `${p}p`, 'x'], ['INCR', `${p}p`], ['GET', `${p}p`], ['MULTI'], ['GET', `${p}missing`]],
      { base64: true },
    );
    expect(res.status).toBe(200);
    expect(res.json).toEqual([
      { result: 'OK' },
      { error: 'ERR value is not an integer or out of range' },
      { result: b64('x') },
      { error: expect.stringMatching(/MULTI is not supported/) },
      { result: null },
    ]);
  });

  it('rejects a body that is not an array of commands', async () => {
    expect((await call('/pipeline', ['GET', 'x'])).status).toBe(400);
    expect((await call('/pipeline', [])).status).toBe(400);
  });
});

describe('POST /multi-exec', () => {
  it('runs the commands in a transaction and answers like a pipeline', async () => {
    const res = await call('/multi-exec', [['SET', `${p}m`, 'v'], ['INCR', `${p}m`], ['APPEND', `${p}m`, '2']]);
    expect(res).toEqual({
      status: 200,
      json: [{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 2 }],
    });
  });

  it('a transaction discarded at queue time is 400 EXECABORT, and nothing is applied', async () => {
    const res = await call('/multi-exec', [['SET', `${p}abort`, 'v'], ['GET']]);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^EXECABORT .*wrong number of arguments/);
    expect((await call('/', ['EXISTS', `${p}abort`])).json).toEqual({ result: 0 });
  });
});

describe('path-style commands', () => {
  it('GET /cmd/arg/... with URL-decoded arguments', async () => {
    const key = `${p}path/with spaces`;
    expect((await call(`/set/${encodeURIComponent(key)}/v%C3%A9`, undefined, { method: 'GET' })).json).toEqual({ result: 'OK' });
    expect((await call(`/get/${encodeURIComponent(key)}`, undefined, { method: 'GET' })).json).toEqual({ result: 'vé' });
  });

  it('POST appends the body as the last argument, then the query parameters', async () => {
    const value = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0]);
    const res = await call(`/set/${p}posted?EX=100`, undefined, { rawBody: value, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.json).toEqual({ result: 'OK' });
    expect((await call(`/get/${p}posted`, undefined, { method: 'GET', base64: true })).json).toEqual({ result: value.toString('base64') });
    const ttl = (await call(`/ttl/${p}posted`, undefined, { method: 'GET' })).json.result;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
  });

  it('a malformed path is 400, an unknown command 400', async () => {
    const bad = await call('/get/%E0%A4%A', undefined, { method: 'GET' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/malformed percent-encoding/);
    const unknown = await call('/nosuchcommand/x', undefined, { method: 'GET' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatch(/unknown command/);
  });

  it('accepts the token as ?_token=', async () => {
    const res = await fetch(`${url}/get/${p}missing?_token=${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: null });
  });
});

describe('authentication', () => {
  it('401 {"error":"Unauthorized"} for a wrong, missing or malformed token', async () => {
    /** @type {Array<Record<string, string>>} */
    const cases = [{ authorization: 'Bearer nope' }, {}, { authorization: token }];
    for (const headers of cases) {
      const res = await fetch(`${url}/`, { method: 'POST', headers, body: '["PING"]' });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'Unauthorized' });
    }
    const res = await fetch(`${url}/get/x?_token=nope`);
    expect(res.status).toBe(401);
  });

  it('control endpoints need the token too', async () => {
    const res = await fetch(`${url}/__testkit/stats`);
    expect(res.status).toBe(401);
    const fault = await fetch(`${url}/__testkit/fault`, { method: 'POST', body: '{"mode":"down"}' });
    expect(fault.status).toBe(401);
  });
});
