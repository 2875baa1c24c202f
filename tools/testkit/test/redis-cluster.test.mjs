import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster } from '@tiercache/testkit';
import { RespConnection } from '../src/resp.mjs';
import { tryConnect } from './helpers.mjs';

describe('startRedisCluster', () => {
  /** @type {Awaited<ReturnType<typeof startRedisCluster>>} */
  let cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('joins three masters that cover every slot', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.startupNodes).toEqual(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    const conn = await RespConnection.connect({ port: cluster.nodes[0].port });
    try {
      const [info, slots] = await conn.send([['CLUSTER', 'INFO'], ['CLUSTER', 'SLOTS']]);
      expect(String(info)).toContain('cluster_state:ok');
      expect(String(info)).toContain('cluster_slots_assigned:16384');
      const owners = new Set(/** @type {any[]} */ (slots).map((range) => Number(range[2][1])));
      expect(owners).toEqual(new Set(cluster.nodes.map((n) => n.port)));
    } finally {
      conn.close();
    }
  });

  it('nodeFor names the master that accepts the key (no MOVED)', async () => {
    for (const key of ['a', 'b', 'c', 'user:1', '{tags}:stamp']) {
      const node = await cluster.nodeFor(key);
      const conn = await RespConnection.connect({ port: node.port });
      try {
        const [reply] = await conn.send([['SET', key, 'x']]);
        expect(reply).toBe('OK');
      } finally {
        conn.close();
      }
    }
  });

  it('a stopped node refuses connections while the others keep serving their slots', async () => {
    const victim = await cluster.nodeFor('victim');
    await victim.stop();
    expect(await tryConnect('127.0.0.1', victim.port)).toBe('ECONNREFUSED');
    let key = 'survivor';
    for (let i = 0; (await cluster.nodeFor(key)) === victim; i++) key = `survivor${i}`;
    const owner = await cluster.nodeFor(key);
    const conn = await RespConnection.connect({ port: owner.port });
    try {
      expect((await conn.send([['SET', key, 'y']]))[0]).toBe('OK');
    } finally {
      conn.close();
    }
  });
});
