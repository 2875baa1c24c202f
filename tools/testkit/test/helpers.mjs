import net from 'node:net';
import os from 'node:os';

/** A key prefix no other test uses. @param {string} name */
export function prefix(name) {
  return `${name}:${Math.random().toString(36).slice(2, 10)}:`;
}

/**
 * Resolves with 'connected' or the connect error code for host:port.
 * @param {string} host @param {number} port
 * @returns {Promise<string>}
 */
export function tryConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (/** @type {NodeJS.ErrnoException} */ err) => resolve(err.code ?? err.message));
  });
}

/** An IPv4 address of this machine that is not loopback, if any. */
export function externalIPv4() {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return undefined;
}
