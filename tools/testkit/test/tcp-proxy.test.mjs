import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, startTcpProxy } from '@tiercache/testkit';
import { RespConnection } from '../src/resp.mjs';

describe('startTcpProxy', () => {
  /** @type {Awaited<ReturnType<typeof startRedis>>} */
  let redis;
  /** @type {Awaited<ReturnType<typeof startTcpProxy>>} */
  let proxy;
  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy({ targetPort: redis.port });
  });
  afterAll(async () => {
    await proxy?.stop();
    await redis?.stop();
  });

  it('forwards, and counts a pipeline as one round trip and sequential commands as one each', async () => {
    const conn = await RespConnection.connect({ port: proxy.port });
    try {
      proxy.resetStats();
      expect(await conn.send([['SET', 'a', '1'], ['GET', 'a'], ['PING']])).toEqual(['OK', Buffer.from('1'), 'PONG']);
      expect(proxy.stats().roundTrips).toBe(1);
      await conn.send([['PING']]);
      await conn.send([['PING']]);
      expect(proxy.stats().roundTrips).toBe(3);
    } finally {
      conn.close();
    }
  });

  it('blackhole: the server never answers; pass: it answers again on a new connection', async () => {
    proxy.setMode('blackhole');
    const conn = await RespConnection.connect({ port: proxy.port });
    const answer = conn.send([['PING']]);
    const outcome = await Promise.race([answer.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('silent'), 200))]);
    expect(outcome).toBe('silent');
    proxy.setMode('pass');
    proxy.dropConnections();
    await expect(answer).rejects.toThrow();
    const again = await RespConnection.connect({ port: proxy.port });
    expect(await again.send([['PING']])).toEqual(['PONG']);
    again.close();
  });

  it('adds the delay to each direction', async () => {
    proxy.setDelay(40);
    const conn = await RespConnection.connect({ port: proxy.port });
    const started = performance.now();
    await conn.send([['PING']]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    conn.close();
    proxy.setDelay(0);
  });
});
