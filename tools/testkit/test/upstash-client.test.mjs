// The real @upstash/redis client against the testkit endpoint over a real redis-server.
import { Redis } from '@upstash/redis';
import { describe, expect, inject, it } from 'vitest';
import { prefix } from './helpers.mjs';

const url = inject('UPSTASH_TEST_URL');
const token = inject('UPSTASH_TEST_TOKEN');

const CAS_DELETE = "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";

const STRINGS = [
  'plain',
  'héllo wörld ✓ 日本語 🎉👍🏽',
  'control \u0000\u0001\u0007\b\t\n\r\u001b\u007f end',
  'latin1-ish \u00ff\u00fe\u0080\u0081',
  'quotes " \' ` and \\ backslashes \\u0000',
  'OK', // a raw "OK" is special in the client's base64 decoding
  'UE9ORw==', // looks like base64 already
  '007', // not JSON: stays a string even with automatic deserialization
  '',
  'x'.repeat(200_000),
];

const OBJECTS = [
  { a: 1, nested: { list: [1, 'two', null, true], emoji: '🎉' }, s: 'ünïcödé' },
  [1, 2, { three: 3 }],
  { empty: {}, arr: [], n: -1.5e-7 },
];

/** @type {Array<{ name: string, options: Partial<import('@upstash/redis').RedisConfigNodejs>, deserialize: boolean }>} */
const CONFIGS = [
  { name: 'default options (auto-pipelining, base64, deserialization)', options: {}, deserialize: true },
  { name: 'responseEncoding: false', options: { responseEncoding: false }, deserialize: true },
  { name: 'automaticDeserialization: false', options: { automaticDeserialization: false }, deserialize: false },
  { name: 'enableAutoPipelining: false', options: { enableAutoPipelining: false }, deserialize: true },
];

describe.each(CONFIGS)('@upstash/redis with $name', ({ options, deserialize }) => {
  const redis = new Redis({ url, token, ...options });
  const p = prefix('client');

  it('set/get with PX, and NX', async () => {
    expect(await redis.set(`${p}px`, 'v1', { px: 60_000 })).toBe('OK');
    const pttl = await redis.pttl(`${p}px`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await redis.set(`${p}px`, 'v2', { nx: true, px: 60_000 })).toBeNull();
    expect(await redis.get(`${p}px`)).toBe('v1');
    expect(await redis.set(`${p}nx`, 'fresh', { nx: true })).toBe('OK');
    expect(await redis.get(`${p}nx`)).toBe('fresh');
  });

  it('get of a missing key is null; del removes', async () => {
    expect(await redis.get(`${p}missing`)).toBeNull();
    await redis.set(`${p}del`, 'x');
    expect(await redis.del(`${p}del`, `${p}missing`)).toBe(1);
    expect(await redis.get(`${p}del`)).toBeNull();
  });

  it('mget, with missing keys as null', async () => {
    await redis.mset({ [`${p}m1`]: 'one', [`${p}m2`]: { two: 2 } });
    const values = await redis.mget(`${p}m1`, `${p}missing`, `${p}m2`);
    expect(values).toEqual(['one', null, deserialize ? { two: 2 } : '{"two":2}']);
  });

  it('numbers: integer replies are numbers; numeric strings deserialize only when enabled', async () => {
    expect(await redis.incr(`${p}n`)).toBe(1);
    expect(await redis.incrby(`${p}n`, 41)).toBe(42);
    expect(await redis.get(`${p}n`)).toBe(deserialize ? 42 : '42');
    expect(await redis.exists(`${p}n`, `${p}missing`)).toBe(1);
  });

  it('pipeline', async () => {
    const pipe = redis.pipeline();
    pipe.set(`${p}pipe`, 'a');
    pipe.get(`${p}pipe`);
    pipe.append(`${p}pipe`, 'b');
    pipe.get(`${p}pipe`);
    pipe.get(`${p}missing`);
    pipe.del(`${p}pipe`);
    expect(await pipe.exec()).toEqual(['OK', 'a', 2, 'ab', null, 1]);
  });

  it('pipeline keeps per-command errors in place', async () => {
    await redis.set(`${p}str`, 'text');
    const pipe = redis.pipeline();
    pipe.get(`${p}str`);
    pipe.incr(`${p}str`);
    pipe.strlen(`${p}str`);
    const results = await pipe.exec({ keepErrors: true });
    expect(results[0]).toEqual({ result: 'text', error: undefined });
    expect(results[1].error).toMatch(/ERR value is not an integer/);
    expect(results[2]).toEqual({ result: 4, error: undefined });
    const failing = redis.pipeline();
    failing.get(`${p}str`);
    failing.incr(`${p}str`);
    await expect(failing.exec()).rejects.toThrow(/Command 2 \[ incr \] failed: ERR value is not an integer/);
  });

  it('multi-exec transaction', async () => {
    const tx = redis.multi();
    tx.set(`${p}tx`, 10);
    tx.incr(`${p}tx`);
    tx.get(`${p}tx`);
    tx.expire(`${p}tx`, 60);
    tx.ttl(`${p}tx`);
    const [set, incr, get, expire, ttl] = await tx.exec();
    expect([set, incr, get, expire]).toEqual(['OK', 11, deserialize ? 11 : '11', 1]);
    expect(ttl).toBeGreaterThan(0);
  });

  it('a transaction with a queued syntax error is discarded and rejects', async () => {
    const tx = redis.multi();
    tx.set(`${p}txbad`, 'x');
    // A made-up command fails at queue time, so redis discards the whole transaction.
    /** @type {any} */ (tx).chain({ command: ['nosuchcommand'], deserialize: (/** @type {unknown} */ x) => x });
    await expect(tx.exec()).rejects.toThrow(/EXECABORT/);
    expect(await redis.get(`${p}txbad`)).toBeNull();
  });

  it('eval, evalsha with the NOSCRIPT fallback (compare-and-delete)', async () => {
    await redis.scriptFlush();
    const script = redis.createScript(CAS_DELETE);
    await redis.set(`${p}lock`, 'owner-1');
    // EVALSHA answers NOSCRIPT now; exec falls back to EVAL, which loads it.
    expect(await script.exec([`${p}lock`], ['someone-else'])).toBe(0);
    expect(await redis.get(`${p}lock`)).toBe('owner-1');
    expect(await script.exec([`${p}lock`], ['owner-1'])).toBe(1);
    expect(await redis.get(`${p}lock`)).toBeNull();

    const sha = await redis.scriptLoad(CAS_DELETE);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    await redis.set(`${p}lock`, 'owner-2');
    expect(await redis.evalsha(sha, [`${p}lock`], ['owner-2'])).toBe(1);
    await expect(redis.evalsha('0'.repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval('return {1, "two", ARGV[1]}', [], ['three'])).toEqual([1, 'two', 'three']);
  });

  it.each(STRINGS.map((s) => [s.length > 60 ? `${s.slice(0, 20)}… (${s.length} chars)` : JSON.stringify(s), s]))(
    'string %s round-trips exactly',
    async (_label, value) => {
      const key = `${p}s:${Math.random()}`;
      await redis.set(key, value);
      expect(await redis.get(key)).toBe(value);
      expect(await redis.mget(key, `${p}missing`)).toEqual([value, null]);
      await redis.hset(`${key}:h`, { f: value });
      expect(await redis.hget(`${key}:h`, 'f')).toBe(value);
    },
  );

  it('JSON objects round-trip', async () => {
    for (const [i, value] of OBJECTS.entries()) {
      await redis.set(`${p}obj${i}`, value);
      const got = await redis.get(`${p}obj${i}`);
      expect(deserialize ? got : JSON.parse(/** @type {string} */ (got))).toEqual(value);
    }
  });

  it('nested array replies: hgetall, zrange with scores, lrange', async () => {
    await redis.hset(`${p}h`, { a: 'x', b: 'OK', c: '✓' });
    const hash = await redis.hgetall(`${p}h`);
    // Without deserialization the client hands back redis' flat field/value array.
    expect(hash).toEqual(deserialize ? { a: 'x', b: 'OK', c: '✓' } : ['a', 'x', 'b', 'OK', 'c', '✓']);
    await redis.zadd(`${p}z`, { score: 1.5, member: 'one' }, { score: 2, member: 'OK' });
    const z = await redis.zrange(`${p}z`, 0, -1, { withScores: true });
    expect(z).toEqual(deserialize ? ['one', 1.5, 'OK', 2] : ['one', '1.5', 'OK', '2']);
    await redis.rpush(`${p}l`, 'OK', 'é', '');
    expect(await redis.lrange(`${p}l`, 0, -1)).toEqual(['OK', 'é', '']);
  });

  it('simple-string replies other than OK decode correctly', async () => {
    expect(await redis.ping()).toBe('PONG');
    await redis.set(`${p}t`, 'x');
    expect(await redis.type(`${p}t`)).toBe('string');
    expect(await redis.type(`${p}missing`)).toBe('none');
  });

  it('a command error rejects with the redis error text', async () => {
    await redis.set(`${p}notint`, 'abc');
    await expect(redis.incr(`${p}notint`)).rejects.toThrow(/ERR value is not an integer or out of range/);
    await expect(redis.lpush(`${p}notint`, 'x')).rejects.toThrow(/WRONGTYPE/);
    // hgetall is never auto-pipelined: this goes to POST / and gets a 400.
    await expect(redis.hgetall(`${p}notint`)).rejects.toThrow(/WRONGTYPE/);
  });

  it('a wrong token is rejected', async () => {
    const bad = new Redis({ url, token: 'wrong-token', retry: false, ...options });
    await expect(bad.get(`${p}x`)).rejects.toThrow(/Unauthorized/);
  });
});

describe('@upstash/redis subscribe (server-sent events)', () => {
  it('receives published messages on a channel and a pattern', async () => {
    const redis = new Redis({ url, token });
    const channel = `${prefix('chan')}news`;
    const sub = redis.subscribe(channel);
    const psub = redis.psubscribe(`${channel.slice(0, -4)}*`);
    try {
      await Promise.all([
        new Promise((resolve) => sub.on('subscribe', resolve)),
        new Promise((resolve) => psub.on('psubscribe', resolve)),
      ]);
      const message = new Promise((resolve) => sub.on('message', resolve));
      const pmessage = new Promise((resolve) => psub.on('pmessage', resolve));
      expect(await redis.publish(channel, { hello: 'wörld' })).toBe(2);
      expect(await message).toEqual({ channel, message: { hello: 'wörld' } });
      expect(await pmessage).toEqual({ pattern: `${channel.slice(0, -4)}*`, channel, message: { hello: 'wörld' } });
    } finally {
      await sub.unsubscribe();
      await psub.unsubscribe();
    }
  });
});
