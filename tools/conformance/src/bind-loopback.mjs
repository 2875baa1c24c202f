// Preloaded into the suite's server (node --import): its server.listen(port) names no host, which would bind every
// interface. Any listen() without a host binds 127.0.0.1 instead.
import net from 'node:net'

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function listenOnLoopback(/** @type {any[]} */ ...args) {
  const [first] = args
  const isPort = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))
  if (isPort && typeof args[1] !== 'string') {
    return listen.call(this, { port: Number(first), host: '127.0.0.1' }, ...args.slice(1).filter((a) => typeof a === 'function'))
  }
  if (typeof first === 'object' && first !== null && !('path' in first) && first.host === undefined) {
    return listen.call(this, { ...first, host: '127.0.0.1' }, ...args.slice(1))
  }
  return listen.apply(this, /** @type {any} */ (args))
}
