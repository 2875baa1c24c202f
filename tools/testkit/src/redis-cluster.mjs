// A real Redis Cluster on loopback: N redis-server processes with cluster mode on, joined by redis-cli.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { RespConnection } from './resp.mjs';
import { ensureRedisServer, startRedis } from './redis-server.mjs';
import { isExecutable, whichSync } from './system.mjs';

/**
 * @typedef {object} StartRedisClusterOptions
 * @property {number} [masters] (default: 3; the minimum redis-cli accepts)
 * @property {number} [replicas]  replicas per master (default: 0)
 * @property {number} [nodeTimeoutMs]  cluster-node-timeout: how soon a silent node is marked failed (default: 1000)
 * @property {boolean} [requireFullCoverage]  cluster-require-full-coverage: when false (the default here), the
 *   other masters keep answering for their slots while one master is down
 * @property {string[]} [args]  extra redis-server arguments for every node
 * @property {number} [readyTimeoutMs] (default: 20000)
 */

/**
 * @typedef {object} RedisClusterNode
 * @property {string} host
 * @property {number} port
 * @property {number} pid
 * @property {() => Promise<void>} stop  kills this node (SIGKILL); the others go on
 */

/**
 * @typedef {object} RedisCluster
 * @property {RedisClusterNode[]} nodes  masters first, then replicas, in start order
 * @property {{ host: string, port: number }[]} startupNodes  what `new Redis.Cluster(startupNodes)` takes
 * @property {(key: string) => Promise<RedisClusterNode>} nodeFor  the master serving `key` (asks CLUSTER KEYSLOT / SLOTS)
 * @property {() => Promise<void>} stop  kills every node and resolves once all exited (idempotent)
 */

/**
 * The redis-cli executable beside redis-server (Debian's redis-tools, a dependency of redis-server).
 * @param {string} serverBin
 * @returns {string}
 */
function findRedisCli(serverBin) {
  const beside = path.join(path.dirname(serverBin), 'redis-cli');
  if (isExecutable(beside)) return beside;
  const onPath = whichSync('redis-cli');
  if (onPath) return onPath;
  throw new Error(`redis-cli not found beside ${serverBin} or on PATH (Debian package redis-tools)`);
}

/**
 * Starts a Redis Cluster on 127.0.0.1: `masters * (1 + replicas)` redis-server processes with
 * `--cluster-enabled yes`, each on a free port with its own nodes.conf, joined by `redis-cli --cluster create`;
 * resolves once every node reports `cluster_state:ok`.
 * @param {StartRedisClusterOptions} [options]
 * @returns {Promise<RedisCluster>}
 * @example
 * const cluster = await startRedisCluster();
 * const client = new Redis.Cluster(cluster.startupNodes);
 * await cluster.stop();
 */
export async function startRedisCluster(options = {}) {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  if (!Number.isInteger(masters) || masters < 3) throw new RangeError(`options.masters must be an integer >= 3, got ${masters}`);
  if (!Number.isInteger(replicas) || replicas < 0) throw new RangeError(`options.replicas must be an integer >= 0, got ${replicas}`);
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const bin = await ensureRedisServer();
  const cli = findRedisCli(bin);
  const args = [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000),
    '--cluster-require-full-coverage', options.requireFullCoverage ? 'yes' : 'no',
    ...(options.args ?? []),
  ];
  const servers = await Promise.all(
    Array.from({ length: masters * (1 + replicas) }, () => startRedis({ bin, args })),
  );
  const stopAll = () => Promise.all(servers.map((s) => s.stop())).then(() => undefined);
  try {
    await runCli(
      cli,
      ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      readyTimeoutMs,
    );
    await waitForClusterOk(servers.map((s) => s.port), readyTimeoutMs);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port, pid: s.pid, stop: s.stop }));

  /** @param {string} key */
  async function nodeFor(key) {
    for (const node of nodes) {
      let conn;
      try {
        conn = await RespConnection.connect({ port: node.port, connectTimeoutMs: 1000 });
        const [slotReply, slotsReply] = await conn.send([['CLUSTER', 'KEYSLOT', key], ['CLUSTER', 'SLOTS']]);
        const slot = Number(slotReply);
        for (const range of /** @type {any[]} */ (slotsReply)) {
          if (slot >= range[0] && slot <= range[1]) {
            const port = Number(range[2][1]);
            const found = nodes.find((n) => n.port === port);
            if (found) return found;
          }
        }
      } catch {
        // this node is down: ask the next one
      } finally {
        conn?.close();
      }
    }
    throw new Error(`no live node of the cluster knows who serves ${JSON.stringify(key)}`);
  }

  return {
    nodes,
    startupNodes: nodes.slice(0, masters).map((n) => ({ host: n.host, port: n.port })),
    nodeFor,
    stop: stopAll,
  };
}

/**
 * @param {string} cli
 * @param {string[]} args
 * @param {number} timeoutMs
 * @returns {Promise<string>}
 */
function runCli(cli, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (/** @type {Buffer} */ chunk) => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-cli ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`redis-cli ${args.join(' ')} failed (exit ${code}):\n${output}`));
    });
  });
}

/**
 * Polls CLUSTER INFO on every port until each says cluster_state:ok.
 * @param {number[]} ports
 * @param {number} timeoutMs
 */
async function waitForClusterOk(ports, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    const conn = await RespConnection.connect({ port });
    try {
      for (;;) {
        const [info] = await conn.send([['CLUSTER', 'INFO']]);
        if (String(info).includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node 127.0.0.1:${port} not ok within ${timeoutMs} ms:\n${String(info)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      conn.close();
    }
  }
}
