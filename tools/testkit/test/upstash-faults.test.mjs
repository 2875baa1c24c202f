// Fault injection and round-trip counting, on a private redis + endpoint (these tests flush and break things).
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, startUpstashServer } from '@tiercache/testkit';

/** @type {Awaited<ReturnType<typeof startRedis>>} */
let redisServer;
/** @type {Awaited<ReturnType<typeof startUpstashServer>>} */
let upstash;

beforeAll(async () => {
  redisServer = await startRedis();
  upstash = await startUpstashServer({ redisUrl: redisServer.url, token: 'fault-token' });
});
afterAll(async () => {
  await upstash?.stop();
  await redisServer?.stop();
});
beforeEach(async () => {
  upstash.setFault('ok');
  upstash.resetStats();
  await upstash.flushAll();
});

/** A client that fails fast: no retries, and a per-request timeout so nothing hangs. */
function client(/** @type {Record<string, unknown>} */ extra = {}) {
  return new Redis({
    url: upstash.url,
    token: upstash.token,
    retry: false,
    // A function signal makes the client rethrow the abort instead of returning its reason as a result. 5 s:
    // nothing here waits for it except the 'down' faults, and 500 ms aborted healthy requests on a loaded machine.
    signal: () => AbortSignal.timeout(5_000),
    ...extra,
  });
}

/** @param {string} path @param {RequestInit} [init] */
function control(path, init = {}) {
  return fetch(`${upstash.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${upstash.token}`, 'content-type': 'application/json' },
  });
}

describe('round-trip counting', () => {
  it('a lone GET is one request with one command', async () => {
    const redis = client();
    await redis.get('k');
    expect(upstash.stats()).toEqual({
      requests: 1,
      commands: 1,
      byPath: { '/pipeline': 1 },
      byCommand: { GET: 1 },
      faulted: 0,
      unauthorized: 0,
    });
  });

  it('commands issued in the same tick share one auto-pipelined request; mget is one command', async () => {
    const redis = client();
    await Promise.all([redis.get('a'), redis.get('b'), redis.get('c')]);
    expect(upstash.stats()).toMatchObject({ requests: 1, commands: 3 });
    upstash.resetStats();
    await redis.mget('a', 'b', 'c');
    expect(upstash.stats()).toMatchObject({ requests: 1, commands: 1, byCommand: { MGET: 1 } });
  });

  it('counts per path: /, /pipeline, /multi-exec, path style', async () => {
    const redis = client({ enableAutoPipelining: false });
    await redis.set('k', 'v');
    const pipe = redis.pipeline();
    pipe.get('k');
    pipe.get('k');
    await pipe.exec();
    const tx = redis.multi();
    tx.incr('n');
    tx.incr('n');
    await tx.exec();
    await fetch(`${upstash.url}/get/k?_token=${upstash.token}`);
    expect(upstash.stats()).toMatchObject({
      requests: 4,
      commands: 6,
      byPath: { '/': 1, '/pipeline': 1, '/multi-exec': 1, '/get': 1 },
      byCommand: { SET: 1, GET: 3, INCR: 2 },
    });
  });

  it('GET /__testkit/stats and POST /__testkit/reset?flush=1 over HTTP', async () => {
    const redis = client();
    await redis.set('keep', 'me');
    const stats = await (await control('/__testkit/stats')).json();
    expect(stats).toMatchObject({ requests: 1, commands: 1 });

    expect(await (await control('/__testkit/reset', { method: 'POST' })).json()).toEqual({ ok: true, flushed: false });
    expect(upstash.stats().requests).toBe(0);
    expect(await redis.get('keep')).toBe('me');

    expect(await (await control('/__testkit/reset?flush=1', { method: 'POST' })).json()).toEqual({ ok: true, flushed: true });
    expect(await redis.get('keep')).toBeNull();
    // control requests are never counted
    expect(upstash.stats()).toMatchObject({ requests: 1, commands: 1 });
  });

  it('waitForRequests resolves when requests arrive, and times out clearly', async () => {
    const waiting = upstash.waitForRequests(2);
    const redis = client();
    await redis.get('a');
    await redis.get('b');
    await waiting;
    await expect(upstash.waitForRequests(3, { timeoutMs: 20 })).rejects.toThrow(/2 of 3 requests/);
  });

  it('counts unauthorized requests', async () => {
    const bad = new Redis({ url: upstash.url, token: 'wrong', retry: false });
    await expect(bad.get('k')).rejects.toThrow(/Unauthorized/);
    expect(upstash.stats()).toMatchObject({ requests: 1, commands: 0, unauthorized: 1 });
  });
});

describe('fault injection', () => {
  it("'error500' answers HTTP 500 with an error body the client surfaces", async () => {
    upstash.setFault({ mode: 'error500' });
    const res = await fetch(`${upstash.url}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${upstash.token}` },
      body: '["PING"]',
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/injected fault/) });
    await expect(client().get('k')).rejects.toThrow(/injected fault: error500/);
    expect(upstash.stats()).toMatchObject({ requests: 2, commands: 0, faulted: 2 });
  });

  it("'down' drops the connection without an answer", async () => {
    upstash.setFault('down');
    await expect(fetch(`${upstash.url}/`, { method: 'POST', body: '["PING"]' })).rejects.toThrow(/fetch failed/);
    // retry: false still means one retry in @upstash/redis 1.39: two attempts, both dropped.
    await expect(client().get('k')).rejects.toThrow(/fetch failed/);
    expect(upstash.stats()).toMatchObject({ requests: 3, commands: 0, faulted: 3 });
  });

  it("'slow' delays the answer by delayMs", async () => {
    upstash.setFault({ mode: 'slow', delayMs: 150 });
    const redis = client();
    const started = performance.now();
    expect(await redis.set('k', 'v')).toBe('OK');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("'slow' longer than the client's timeout makes the call fail, not hang", async () => {
    // The bound is 40 times the 100 ms timeout (a loaded machine stalls for hundreds of ms), and below both the 8 s
    // answer that a timeout which did not abort would wait for and the client's default 5 s one, had it been ignored.
    upstash.setFault({ mode: 'slow', delayMs: 8_000 });
    const redis = client({ signal: () => AbortSignal.timeout(100) });
    const started = performance.now();
    await expect(redis.get('k')).rejects.toThrow(/abort|timeout/i);
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it('a counted fault applies to that many requests, then the client retries through', async () => {
    upstash.setFault({ mode: 'down', count: 1 });
    const redis = client({ retry: { retries: 2, backoff: () => 0 } });
    expect(await redis.set('k', 'v')).toBe('OK');
    expect(upstash.stats()).toMatchObject({ requests: 2, commands: 1, faulted: 1 });
  });

  it('POST /__testkit/fault sets the fault over HTTP, and validates it', async () => {
    const set = await control('/__testkit/fault', { method: 'POST', body: JSON.stringify({ mode: 'error500' }) });
    expect(await set.json()).toEqual({ ok: true, mode: 'error500' });
    expect(await (await control('/__testkit/fault')).json()).toEqual({ mode: 'error500', delayMs: 1000, count: null });
    await expect(client().get('k')).rejects.toThrow(/injected fault/);

    const bad = await control('/__testkit/fault', { method: 'POST', body: JSON.stringify({ mode: 'explode' }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/fault.mode must be one of/);

    // control endpoints are never faulted, so a test can always switch back
    await control('/__testkit/fault', { method: 'POST', body: JSON.stringify({ mode: 'ok' }) });
    expect(await client().get('k')).toBeNull();
  });

  it('setFault validates its input', () => {
    expect(() => upstash.setFault(/** @type {any} */ ({ mode: 'nope' }))).toThrow(TypeError);
    expect(() => upstash.setFault({ mode: 'slow', delayMs: -1 })).toThrow(RangeError);
    expect(() => upstash.setFault({ mode: 'down', count: 0 })).toThrow(RangeError);
  });
});

describe('redis itself down behind the endpoint', () => {
  it('answers 500 {error} at once instead of hanging', async () => {
    const ownRedis = await startRedis();
    const own = await startUpstashServer({ redisUrl: ownRedis.url });
    try {
      const redis = new Redis({ url: own.url, token: own.token, retry: false });
      expect(await redis.set('x', '1')).toBe('OK'); // leaves a pooled connection behind
      await ownRedis.stop();
      await expect(redis.get('x')).rejects.toThrow(/redis unavailable/);
    } finally {
      await own.stop();
      await ownRedis.stop();
    }
  });
});

describe('stop', () => {
  it('closes keep-alive connections and in-flight slow requests', async () => {
    const own = await startUpstashServer({ redisUrl: redisServer.url });
    const redis = new Redis({ url: own.url, token: own.token, retry: false });
    expect(await redis.set('x', '1')).toBe('OK');
    own.setFault({ mode: 'slow', delayMs: 60_000 });
    const pending = redis.get('x');
    const settled = pending.then(() => 'resolved', () => 'rejected');
    await own.waitForRequests(2);
    await own.stop();
    expect(await settled).toBe('rejected');
  });
});
