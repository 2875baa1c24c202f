// Types for @tiercache/testkit (hand-written: the package is plain .mjs, no build step).

// ---- Redis -----------------------------------------------------------------

/** The redis-server executable: `$REDIS_SERVER_BIN`, then PATH, then /usr/bin/redis-server. */
export function findRedisServer(): string | undefined;

/** Returns the redis-server path, installing Debian's `redis-server` with apt-get (sudo when not root) when missing. */
export function ensureRedisServer(): Promise<string>;

export interface StartRedisOptions {
  /** @default a free port picked by the OS */
  port?: number;
  /** @default findRedisServer(), installing it if missing */
  bin?: string;
  /** Extra redis-server arguments, e.g. `['--maxmemory', '10mb']`. */
  args?: string[];
  /** @default 10000 */
  readyTimeoutMs?: number;
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  pid: number;
  /** Recent redis-server output. */
  logs(): string;
  /** Kills redis-server and resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server bound to 127.0.0.1 only (`--save "" --appendonly no`, not daemonized)
 * as a child process; resolves once it answers PING. It dies with this process.
 */
export function startRedis(options?: StartRedisOptions): Promise<RedisServer>;

// ---- Redis Cluster -----------------------------------------------------------

export interface StartRedisClusterOptions {
  /** @default 3 (the minimum redis-cli accepts) */
  masters?: number;
  /** Replicas per master. @default 0 */
  replicas?: number;
  /** cluster-node-timeout: how soon a silent node is marked failed. @default 1000 */
  nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage. @default false: the other masters keep answering for their slots while one
   * master is down
   */
  requireFullCoverage?: boolean;
  /** Extra redis-server arguments for every node. */
  args?: string[];
  /** @default 20000 */
  readyTimeoutMs?: number;
}

export interface RedisClusterNode {
  host: string;
  port: number;
  pid: number;
  /** Kills this node (SIGKILL); the others go on. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisCluster {
  /** Masters first, then replicas, in start order. */
  nodes: RedisClusterNode[];
  /** What `new Redis.Cluster(startupNodes)` (ioredis) takes: the masters. */
  startupNodes: { host: string; port: number }[];
  /** The master serving `key` (CLUSTER KEYSLOT + CLUSTER SLOTS on a live node). */
  nodeFor(key: string): Promise<RedisClusterNode>;
  /** Kills every node and resolves once all exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster on 127.0.0.1: `masters * (1 + replicas)` redis-server processes with
 * `--cluster-enabled yes` on free ports, joined by `redis-cli --cluster create`; resolves once every node reports
 * `cluster_state:ok`. Every node dies with this process.
 */
export function startRedisCluster(options?: StartRedisClusterOptions): Promise<RedisCluster>;

// ---- Memcached ---------------------------------------------------------------

/** The memcached executable: `$MEMCACHED_BIN`, then PATH, then /usr/bin/memcached. */
export function findMemcached(): string | undefined;

/** Returns the memcached path, installing Debian's `memcached` with apt-get (sudo when not root) when missing. */
export function ensureMemcached(): Promise<string>;

export interface StartMemcachedOptions {
  /** @default a free port picked by the OS */
  port?: number;
  /** @default findMemcached(), installing it if missing */
  bin?: string;
  /** Cache size in MB (`-m`). @default 64 */
  memoryMb?: number;
  /** Extra memcached arguments, e.g. `['-I', '2m']` (largest item). */
  args?: string[];
  /** @default 10000 */
  readyTimeoutMs?: number;
}

export interface MemcachedServer {
  /** `127.0.0.1:PORT`, as memjs takes it. */
  address: string;
  port: number;
  pid: number;
  /** Recent memcached output. */
  logs(): string;
  /** Kills memcached and resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts memcached on 127.0.0.1 only (TCP, UDP off) as a child process; resolves once it answers `version`.
 * It dies with this process.
 */
export function startMemcached(options?: StartMemcachedOptions): Promise<MemcachedServer>;

// ---- TCP proxy ----------------------------------------------------------------

export interface StartTcpProxyOptions {
  /** Where to forward. */
  targetPort: number;
  /** @default '127.0.0.1' */
  targetHost?: string;
  /** @default a free port */
  port?: number;
  /** Added to each direction of each chunk. @default 0 */
  delayMs?: number;
}

export interface TcpProxyStats {
  /**
   * Client-to-server bursts: data from the client that follows data from the server (or opens the connection).
   * Pipelined or concurrent commands written together count once; a command sent after the answer to the
   * previous one counts again.
   */
  roundTrips: number;
  connections: number;
  bytesUp: number;
  bytesDown: number;
}

export interface TcpProxy {
  port: number;
  /** `redis://127.0.0.1:PORT`, for Redis targets. */
  url: string;
  stats(): TcpProxyStats;
  resetStats(): void;
  setDelay(ms: number): void;
  /** blackhole: accept and read, never forward nor answer (a server that hangs, a partition). */
  setMode(mode: 'pass' | 'blackhole'): void;
  /** Closes every open connection (a network blip). */
  dropConnections(): void;
  stop(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 that counts round trips and can add latency or stop answering. */
export function startTcpProxy(options: StartTcpProxyOptions): Promise<TcpProxy>;

// ---- Upstash-compatible endpoint ---------------------------------------------

export type FaultMode = 'ok' | 'error500' | 'slow' | 'down';

export interface Fault {
  /**
   * - `ok`: answer normally
   * - `error500`: HTTP 500 `{"error": "..."}`
   * - `slow`: wait `delayMs`, then handle the request (skipped if the client gave up meanwhile)
   * - `down`: destroy the socket without answering
   */
  mode: FaultMode;
  /** For `slow`. @default 1000 */
  delayMs?: number;
  /** Apply to this many requests, then return to `ok`. @default unlimited */
  count?: number;
}

export interface UpstashStats {
  /** HTTP requests to the Redis API (not `/__testkit/*`), whatever their outcome. */
  requests: number;
  /** Redis commands executed (a pipeline of 3 counts 3; MULTI/EXEC themselves are not counted). */
  commands: number;
  /** Requests per path: `'/'`, `'/pipeline'`, `'/multi-exec'`, `'/get'` (path style), ... */
  byPath: Record<string, number>;
  /** Executed commands per upper-case name: `{ GET: 2, SET: 1 }`. */
  byCommand: Record<string, number>;
  /** Requests answered (or dropped) by an injected fault. */
  faulted: number;
  /** Requests rejected with 401. */
  unauthorized: number;
}

export interface StartUpstashServerOptions {
  /** The redis-server behind it, e.g. `(await startRedis()).url`. */
  redisUrl: string;
  /** Bearer token clients must send. @default a random hex string */
  token?: string;
  /** @default a free port picked by the OS */
  port?: number;
}

export interface UpstashServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  token: string;
  /** Counters since start or the last reset. Also `GET /__testkit/stats`. */
  stats(): UpstashStats;
  /** Zeroes the counters. Also `POST /__testkit/reset` (`?flush=1` also runs FLUSHALL). */
  resetStats(): void;
  /**
   * Resolves once `stats().requests` reaches `count` (a request counts when it arrives, before any
   * fault or answer): wait for background work to reach "Redis" without sleeping.
   * Rejects after `timeoutMs` (default 5000).
   */
  waitForRequests(count: number, options?: { timeoutMs?: number }): Promise<void>;
  /** FLUSHALL on the redis behind it. */
  flushAll(): Promise<void>;
  /** Injects a fault for following requests. Also `POST /__testkit/fault` with the JSON body. */
  setFault(fault: Fault | FaultMode): void;
  /** Closes the listener and every connection. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an Upstash-compatible REST endpoint on 127.0.0.1 over a real redis-server, faithful
 * to what `@upstash/redis` 1.39 sends with its default options: `POST /`, `/pipeline`,
 * `/multi-exec`, path-style commands, `/subscribe` (SSE), bearer or `_token` auth,
 * `Upstash-Encoding: base64`, 400 `{"error"}` for command errors.
 */
export function startUpstashServer(options: StartUpstashServerOptions): Promise<UpstashServer>;

// ---- Both, once per run --------------------------------------------------------

export interface ServicesEnv {
  /** Absent only when reusing services whose parent did not set it. */
  REDIS_URL?: string;
  UPSTASH_TEST_URL: string;
  UPSTASH_TEST_TOKEN: string;
}

export interface SetupServicesOptions {
  /** Reuse services announced by UPSTASH_TEST_URL/UPSTASH_TEST_TOKEN in the environment. @default true */
  reuse?: boolean;
  /** Export the variables to process.env (undone by stop) so child processes see them. @default true */
  setEnv?: boolean;
  /** Token for a new Upstash endpoint. @default random */
  token?: string;
  redisPort?: number;
  upstashPort?: number;
}

export interface Services {
  env: ServicesEnv;
  /** True when nothing was started here. */
  reused: boolean;
  /** Only when started here. */
  redis?: RedisServer;
  /** Only when started here. */
  upstash?: UpstashServer;
  /** Stops what was started here (nothing when reused). */
  stop(): Promise<void>;
}

/** Starts redis-server + the Upstash endpoint, or reuses the ones named by UPSTASH_TEST_URL/UPSTASH_TEST_TOKEN. */
export function setupServices(options?: SetupServicesOptions): Promise<Services>;

// ---- Chromium --------------------------------------------------------------

/** Flags for headless Chromium on CI: no sandbox, no GPU, no QUIC, no background networking. */
export const CHROMIUM_ARGS: readonly string[];

/** `$CHROMIUM_PATH`, /usr/bin/chromium, /usr/bin/chromium-browser, then PATH. */
export function findChromium(): string | undefined;

/** Returns the Chromium path, installing Debian's `chromium` with apt-get when missing. */
export function ensureChromium(): Promise<string>;

export interface ChromiumLaunchOptionsInput {
  /** @default findChromium() */
  executablePath?: string;
  /** @default true */
  headless?: boolean;
  /** Extra flags, appended to CHROMIUM_ARGS. */
  args?: string[];
}

/**
 * Options for playwright-core's `chromium.launch()` / `launchPersistentContext(dir, options)`.
 * Throws when no Chromium is found: `await ensureChromium()` first.
 */
export function chromiumLaunchOptions(options?: ChromiumLaunchOptionsInput): {
  executablePath: string;
  headless: boolean;
  args: string[];
};

// ---- Misc ------------------------------------------------------------------

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function getFreePort(): Promise<number>;
