// A TCP proxy on loopback that counts round trips and can add latency or stop answering.
import net from 'node:net';
import { getFreePort } from './system.mjs';

/**
 * @typedef {object} StartTcpProxyOptions
 * @property {number} targetPort  where to forward (on 127.0.0.1)
 * @property {string} [targetHost] (default: 127.0.0.1)
 * @property {number} [port] (default: a free port)
 * @property {number} [delayMs]  added to each direction of each chunk (default: 0)
 */

/**
 * @typedef {object} TcpProxyStats
 * @property {number} roundTrips  client-to-server bursts: data from the client that follows data from the server
 *   (or opens the connection). Pipelined or concurrent commands written together count once; a command sent
 *   after the answer to the previous one counts again.
 * @property {number} connections  connections accepted
 * @property {number} bytesUp  client to server
 * @property {number} bytesDown  server to client
 */

/**
 * @typedef {object} TcpProxy
 * @property {number} port
 * @property {string} url  `redis://127.0.0.1:PORT`, for Redis targets
 * @property {() => TcpProxyStats} stats
 * @property {() => void} resetStats
 * @property {(ms: number) => void} setDelay
 * @property {(mode: 'pass' | 'blackhole') => void} setMode  blackhole: accept and read, never forward nor answer
 *   (a server that hangs, a partition)
 * @property {() => void} dropConnections  closes every open connection (a network blip)
 * @property {() => Promise<void>} stop
 */

/**
 * Starts a TCP proxy on 127.0.0.1 in front of `targetPort`.
 * @param {StartTcpProxyOptions} options
 * @returns {Promise<TcpProxy>}
 * @example
 * const proxy = await startTcpProxy({ targetPort: redis.port });
 * const client = new Redis(proxy.url);
 * proxy.stats().roundTrips;
 */
export async function startTcpProxy(options) {
  const targetHost = options.targetHost ?? '127.0.0.1';
  let delayMs = options.delayMs ?? 0;
  /** @type {'pass' | 'blackhole'} */
  let mode = 'pass';
  const stats = { roundTrips: 0, connections: 0, bytesUp: 0, bytesDown: 0 };
  /** @type {Set<net.Socket>} */
  const sockets = new Set();

  /** @param {() => void} fn */
  const later = (fn) => (delayMs > 0 ? setTimeout(fn, delayMs) : fn());

  const server = net.createServer((client) => {
    stats.connections++;
    sockets.add(client);
    const upstream = net.connect({ host: targetHost, port: options.targetPort });
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // Whether the last data on this connection went to the client: the next client data is a new round trip.
    let answered = true;
    client.on('data', (chunk) => {
      if (mode === 'blackhole') return;
      stats.bytesUp += chunk.length;
      if (answered) {
        stats.roundTrips++;
        answered = false;
      }
      later(() => upstream.write(chunk));
    });
    upstream.on('data', (chunk) => {
      if (mode === 'blackhole') return;
      stats.bytesDown += chunk.length;
      answered = true;
      later(() => client.write(chunk));
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  const port = options.port ?? (await getFreePort());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stats: () => ({ ...stats }),
    resetStats() {
      stats.roundTrips = 0;
      stats.connections = 0;
      stats.bytesUp = 0;
      stats.bytesDown = 0;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    setMode(next) {
      mode = next;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    stop() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
