#!/usr/bin/env node
'use strict';
/*
 * server-heap.js — builds a heap that looks like a Node.js backend that has
 * been serving traffic for a while, then writes V8 heap snapshot(s) of it.
 * It is the input generator for leakhunt's benchmarks. No npm dependencies.
 *
 *   node server-heap.js --size-mb 200 --out /tmp/x/server-200mb.heapsnapshot
 *   node server-heap.js --ladder 55,103,144 --out-dir /tmp/x/ladder
 *   node server-heap.js --users 5000 --out x.heapsnapshot        (explicit scale)
 *   node server-heap.js --calibrate                               (re-measure constants)
 *   node server-heap.js --size-mb 2500 --tiles 3 --out /tmp/x/server-2500mb.heapsnapshot
 *       (a heap of ~870 MB written by V8, then tiled 3 times by tile.js: see there)
 *
 * Sizes are in MB = 1,000,000 bytes of snapshot file. The scale needed for a
 * given size comes from linear constants measured on this generator (see
 * CALIBRATION below, and --calibrate to re-measure after changing the heap
 * recipe). Everything random comes from a seeded PRNG (--seed, default 1), so
 * the same command yields the same heap shape. Counts still wobble by ~0.3%
 * between runs (JIT code/feedback objects, asynchronous HTTP warm-up).
 */

const v8 = require('v8');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { EventEmitter } = require('events');
const { spawnSync } = require('child_process');

// ---------------------------------------------------------------------------
// Calibration constants (bytes of snapshot file). Measured with --calibrate
// on Node v20.20.2; the snapshot grows linearly with the scale factors
// (2k/10k/30k users -> 30.1/131.9/385.1 MB, a straight line within 0.1%).
// ---------------------------------------------------------------------------
const CALIBRATION = {
  // server mode: file bytes = serverBase + serverPerUser * users
  serverBase: 4872301,
  serverPerUser: 12675,
  // ladder mode: bytes per leaked request (bus listener + request-log entry,
  // never freed, plus what they retain: the RequestContext and its closed
  // Session), per entry of the bounded query cache, and the size of the
  // process before any rounds (bare process, http server, 200 pool users).
  ladderPerLeak: 5420,
  ladderPerCacheEntry: 1372,
  ladderBase: 7262000,
};

const MB = 1e6;
const T0 = Date.now();

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------
function parseArgs(argv) {
  const a = { seed: 1, reexec: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${k}`);
      return argv[++i];
    };
    switch (k) {
      case '--size-mb': a.sizeMb = Number(next()); break;
      case '--users': a.users = Number(next()); break;
      case '--out': a.out = next(); break;
      case '--ladder': a.ladder = next().split(',').map(Number); break;
      case '--ladder-raw': a.ladderRaw = next(); break;
      case '--out-dir': a.outDir = next(); break;
      case '--seed': a.seed = Number(next()); break;
      case '--no-reexec': a.reexec = false; break;
      case '--tiles': a.tiles = Number(next()); break;
      case '--calibrate': a.calibrate = true; break;
      case '-h': case '--help': usage(0); break;
      default: die(`unknown argument ${k}`);
    }
  }
  return a;
}

function usage(code) {
  process.stderr.write(`usage:
  node server-heap.js --size-mb N --out FILE          one snapshot of ~N MB
  node server-heap.js --users N --out FILE            one snapshot at explicit scale
  node server-heap.js --ladder A,B,C --out-dir DIR    s1..sN.heapsnapshot of ~A,B,C MB
  node server-heap.js --calibrate                     re-measure size constants
  node server-heap.js --size-mb N --tiles K --out FILE  ~N MB as K copies of one heap (tile.js)
options: --seed N (default 1), --no-reexec (never restart with a bigger heap)
`);
  process.exit(code);
}

function die(msg) {
  process.stderr.write(`server-heap: ${msg}\n`);
  process.exit(2);
}

function log(msg) {
  const m = process.memoryUsage();
  const t = ((Date.now() - T0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(
    `[${t}s heap=${(m.heapUsed / 1048576).toFixed(0)}MiB rss=${(m.rss / 1048576).toFixed(0)}MiB] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// Seeded PRNG (mulberry32) and helpers. Math.random is never used.
// ---------------------------------------------------------------------------
let rngState = 1;
function seed(s) { rngState = (s >>> 0) || 1; }
function rng() {
  rngState = (rngState + 0x6D2B79F5) | 0;
  let t = Math.imul(rngState ^ (rngState >>> 15), 1 | rngState);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const rint = (n) => Math.floor(rng() * n);
const pick = (arr) => arr[rint(arr.length)];
const chance = (p) => rng() < p;
const HEX = '0123456789abcdef';
const hexParts = [];
// Random hex id. Built with join() so the result is one flat string, like
// crypto.randomBytes(n).toString('hex') (`s +=` would leave a cons-string tree).
function hex(n) {
  hexParts.length = n;
  for (let i = 0; i < n; i++) hexParts[i] = HEX[rint(16)];
  return hexParts.join('');
}

// Join pieces into one flat string. Plain `a + b` of >= 13 chars makes a
// cons string; real heaps have both kinds, so both are used on purpose.
const flat = (...parts) => parts.join('');

// Fixed "now" so Dates do not depend on the wall clock.
const EPOCH = Date.UTC(2024, 5, 1, 12, 0, 0);
const DAY = 86400e3;
const past = (maxDays) => EPOCH - Math.floor(rng() * maxDays * DAY);

// ---------------------------------------------------------------------------
// Vocabulary: shared constant strings, as a real app has (interned literals).
// ---------------------------------------------------------------------------
const FIRST = ['Alice', 'Bob', 'Carol', 'David', 'Eve', 'Frank', 'Grace', 'Heidi', 'Ivan',
  'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor',
  'Walter', 'Xavier', 'Yolanda', 'Zoe', 'Mohammed', 'Priya', 'Wei', 'Hiroshi', 'Lucía',
  'Mateo', 'Fatima', 'Olga', 'Kwame', 'Ingrid', 'Aarav', 'Chloé', 'Dmitri', 'Amara'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis',
  'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas',
  'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Nakamura',
  'Müller', 'Schmidt', 'Rossi', 'Kowalski', 'Novak', 'Okafor', 'Singh', 'Chen', 'Kim'];
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'IN', 'BR', 'JP', 'CA', 'AU', 'NL', 'SE', 'ES', 'IT', 'PL', 'MX', 'NG'];
const CITIES = ['Springfield', 'Berlin', 'Lyon', 'Leeds', 'Pune', 'Recife', 'Osaka', 'Toronto',
  'Perth', 'Utrecht', 'Malmö', 'Valencia', 'Turin', 'Kraków', 'Monterrey', 'Lagos'];
const STREETS = ['Main St', 'Oak Ave', 'Elm Rd', 'Maple Dr', 'Cedar Ln', 'Pine Ct', 'Hauptstraße',
  'Rue de la Paix', 'High Street', 'Calle Mayor', 'Via Roma', 'Sakura-dori'];
const PRODUCTS = ['Widget', 'Gadget', 'Doohickey', 'Sprocket', 'Gizmo', 'Thingamajig', 'Flux Capacitor',
  'Cable (2m)', 'USB-C Hub', 'Desk Lamp', 'Notebook A5', 'Coffee Beans 1kg', 'Headphones',
  'Keyboard', 'Monitor Arm', 'Water Bottle', 'Backpack', 'Sticker Pack', 'T-Shirt L', 'Mug'];
const SEARCH_WORDS = ['cheap', 'red', 'wireless', 'refurbished', 'large', 'gift', 'eco', 'pro', '2m', 'black', 'used', 'bundle'];
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
const ROLES = ['user', 'admin', 'editor', 'viewer', 'billing', 'support', 'owner'];
const TAGS = ['beta', 'vip', 'trial', 'churn-risk', 'enterprise', 'newsletter', 'mobile', 'api', 'sso'];
const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'ja-JP', 'pt-BR', 'hi-IN'];
const TIMEZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata', 'America/Sao_Paulo'];
const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'okhttp/4.12.0', 'curl/8.5.0', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148'];
const ROUTES = [
  ['GET', '/api/users/:id'], ['PUT', '/api/users/:id'], ['GET', '/api/users/:id/orders'],
  ['POST', '/api/orders'], ['GET', '/api/orders/:id'], ['POST', '/api/orders/:id/cancel'],
  ['GET', '/api/products'], ['GET', '/api/products/:sku'], ['POST', '/api/cart/items'],
  ['DELETE', '/api/cart/items/:sku'], ['POST', '/api/login'], ['POST', '/api/logout'],
  ['GET', '/api/tenants/:tid/settings'], ['PATCH', '/api/tenants/:tid/settings'],
  ['GET', '/api/search'], ['GET', '/healthz'], ['GET', '/metrics'], ['POST', '/webhooks/stripe'],
  ['GET', '/api/reports/daily'], ['POST', '/api/uploads/avatar']];
const SQL = [
  'SELECT id, status, total, created_at FROM orders WHERE user_id = $1 AND tenant_id = $2 ORDER BY created_at DESC LIMIT 20',
  'SELECT u.id, u.email, u.display_name, p.locale FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = $1',
  'SELECT sku, name, price, stock FROM products WHERE tenant_id = $1 AND sku = ANY($2)',
  'SELECT count(*) AS n, sum(total) AS revenue FROM orders WHERE tenant_id = $1 AND created_at > $2',
  'SELECT id, action, created_at FROM audit_log WHERE user_id = $1 ORDER BY id DESC LIMIT 50'];

// ---------------------------------------------------------------------------
// Application classes. Field sets mirror what backends typically keep around.
// ---------------------------------------------------------------------------
class Tenant {
  constructor(id) {
    this.id = id;
    this.slug = 't' + id.toString(36) + '-' + pick(LAST).toLowerCase();
    this.domain = this.slug + '.example.com';            // concatenated string
    this.plan = pick(PLANS);
    this.createdAt = new Date(past(900));
    this.settings = {
      theme: chance(0.5) ? 'dark' : 'light',
      maxUsers: 10 + rint(5000),
      features: TAGS.filter(() => chance(0.3)),
      region: pick(['eu-west-1', 'us-east-1', 'ap-northeast-1']),
      retentionDays: pick([7, 30, 90, 365]),
    };
    // Per-tenant emitter: every session of the tenant subscribes, so these
    // emitters end up with dozens to hundreds of listeners.
    this.events = new EventEmitter();
    this.events.setMaxListeners(0);
    this.activeUsers = new Set();
    this.hourlyRequests = new Uint32Array(24 * 7);       // typed array stats
    this.userIds = [];
  }
}

class User {
  constructor(id, tenant) {
    const first = pick(FIRST), last = pick(LAST);
    this.id = id;
    this.tenantId = tenant.id;
    this.username = (first + '.' + last).toLowerCase() + id;
    this.displayName = first + ' ' + last;                // cons string when >= 13 chars
    this.email = this.username + '@' + tenant.domain;     // cons string
    this.roles = chance(0.8) ? ['user'] : ['user', pick(ROLES)];
    this.createdAt = new Date(past(700));
    this.lastLoginAt = new Date(past(30));
    this.profile = {
      age: 18 + rint(60),
      country: pick(COUNTRIES),
      locale: pick(LOCALES),
      timezone: pick(TIMEZONES),
      prefs: { theme: chance(0.6) ? 'dark' : 'light', emailNotifications: chance(0.5), pageSize: pick([10, 20, 50]) },
    };
    this.address = {
      street: (1 + rint(999)) + ' ' + pick(STREETS),
      city: pick(CITIES),
      zip: String(10000 + rint(89999)),
      country: this.profile.country,
    };
    this.tags = new Set();
    for (let i = rint(4); i > 0; i--) this.tags.add(pick(TAGS));
    this.score = Math.round(rng() * 1e5) / 100;           // double -> heap number
    // Small arrays of short strings: search history and recent login IPs.
    this.recentSearches = [];
    for (let i = rint(9); i > 0; i--) this.recentSearches.push(flat(pick(PRODUCTS).toLowerCase(), ' ', pick(SEARCH_WORDS)));
    this.loginIps = [];
    for (let i = rint(6); i > 0; i--) this.loginIps.push(flat('172.16.', String(rint(256)), '.', String(rint(256))));
    this.orders = [];
    this.sessionIds = [];
  }
}

class Session {
  constructor(user, sid, pooledBuffers) {
    this.sid = sid;
    this.user = user;
    this.userId = user.id;
    this.createdAt = new Date(past(3));
    this.lastSeen = new Date(past(1));
    this.ip = '10.' + rint(256) + '.' + rint(256) + '.' + rint(256);
    this.userAgent = pick(USER_AGENTS);
    // Small buffers: allocUnsafe slices Node's 8 KB pool (shared ArrayBuffer),
    // alloc gets its own ArrayBuffer. Real apps have both.
    this.csrf = pooledBuffers ? Buffer.allocUnsafe(32).fill(rint(256)) : Buffer.alloc(32, rint(256));
    this.data = { cart: [], visits: 1 + rint(200), flash: null, lastPath: pick(ROUTES)[1] };
    for (let i = rint(4); i > 0; i--) this.data.cart.push({ sku: 'SKU-' + (1000 + rint(9000)), qty: 1 + rint(3) });
    this.recentPaths = [];
    for (let i = 2 + rint(9); i > 0; i--) this.recentPaths.push(flat('/api/', pick(['orders/', 'users/', 'products/SKU-']), String(rint(1e5))));
    this.latency = new Float64Array(16);
    for (let i = 0; i < 16; i++) this.latency[i] = rng() * 250;
    this.emitter = new EventEmitter();
    this.lastError = null;
    this.lastPayload = null;
    this.preview = null;
  }
  touch(userId, when) { this.lastSeen = new Date(when); return userId; }
}

class OrderItem {
  constructor(sku, name, qty, price) {
    this.sku = sku; this.name = name; this.qty = qty; this.price = price;
    this.lineTotal = Math.round(price * qty * 100) / 100;
  }
}

class Order {
  constructor(seq, user) {
    this.id = 'ord_' + seq.toString(36).padStart(7, '0');
    this.userId = user.id;
    this.items = [];
    let total = 0;
    for (let i = 1 + rint(4); i > 0; i--) {
      const p = 1 + rint(200) + pick([0.99, 0.49, 0.0, 0.95]);
      const it = new OrderItem('SKU-' + (1000 + rint(9000)), pick(PRODUCTS), 1 + rint(3), p);
      total += p * it.qty;
      this.items.push(it);
    }
    this.total = Math.round(total * 100) / 100;
    this.currency = 'USD';
    this.trackingNumber = chance(0.6) ? flat('1Z', hex(16).toUpperCase()) : null;
    this.status = pick(STATUSES);
    this.createdAt = new Date(past(365));
    this.shipping = user.address;                          // shared object
    this.notes = chance(0.15) ? 'Customer note: ' + pick(['leave at door', 'gift wrap please', 'call on arrival', 'fragile']) + ' #' + seq : null;
  }
}

class QueryCacheEntry {
  constructor(sql, params, rows, now) {
    this.sql = sql;
    this.params = params;
    this.rows = rows;
    this.createdAt = new Date(now);
    this.expiresAt = now + 60e3 * (1 + rint(30));
    this.hits = rint(50);
    this.rawJson = null;
  }
}

class RequestContext {
  constructor(id, method, url, session) {
    this.id = id;
    this.method = method;
    this.url = url;
    this.path = url.split('?')[0];
    this.query = { page: String(1 + rint(5)), limit: pick(['10', '20', '50']) };
    this.headers = {
      host: 'api.example.com',
      'user-agent': session ? session.userAgent : pick(USER_AGENTS),
      accept: 'application/json',
      'x-request-id': id,
      cookie: session ? 'sid=' + session.sid : '',
    };
    this.session = session;
    this.user = session ? session.user : null;
    this.startedAt = EPOCH + rint(3600e3);
    this.state = 'pending';
    this.body = null;
    this.timings = new Float64Array(4);
    // Per-request closure capturing the context (like res.json helpers).
    this.respond = (status, body) => {
      this.state = 'done';
      this.status = status;
      return body;
    };
  }
}

// Linked-list node of an audit stream: a retention chain hundreds deep.
class AuditEntry {
  constructor(seq, prev, userId, action) {
    this.seq = seq;
    this.prev = prev;
    this.userId = userId;
    this.action = action;
    this.at = new Date(past(10));
    this.meta = chance(0.3) ? { ip: '10.0.' + rint(256) + '.' + rint(256), ok: chance(0.9) } : null;
  }
}

// Nested config tree: parent <-> child links, a few hundred levels deep.
class ConfigNode {
  constructor(key, parent) {
    this.key = key;
    this.parent = parent;
    this.children = [];
    this.value = chance(0.5) ? rint(1000) : 'v' + hex(6);
  }
}

// Bounded LRU (Map insertion order). Stays bounded: NOT a leak.
class LruCache {
  constructor(capacity) {
    this.capacity = capacity;
    this.map = new Map();
    this.evictions = 0;
  }
  set(key, value) {
    if (this.map.has(key)) this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      this.map.delete(this.map.keys().next().value);
      this.evictions++;
    }
  }
  get(key) {
    const v = this.map.get(key);
    if (v !== undefined) { this.map.delete(key); this.map.set(key, v); }
    return v;
  }
}

class DbConnection extends EventEmitter {
  constructor(id) {
    super();
    this.id = id;
    this.state = 'idle';
    this.readBuffer = Buffer.alloc(65536);                // KB-sized buffers
    this.writeBuffer = Buffer.alloc(16384);
    this.prepared = new Map();
    for (const sql of SQL) this.prepared.set(sql, { name: 'stmt_' + hex(8), sql, paramTypes: [23, 25] });
    this.on('error', (err) => { this.state = 'broken'; this.lastError = err; });
    this.on('notice', (msg) => { this.lastNotice = msg; });
    this.on('end', () => { this.state = 'closed'; });
  }
}

class MetricsRegistry {
  constructor() {
    this.counters = new Map();
    this.histograms = new Map();
    for (const [m, p] of ROUTES) {
      this.counters.set(m + ' ' + p, 0);
      this.histograms.set(m + ' ' + p, new Float64Array(64));
    }
  }
  inc(name) { this.counters.set(name, (this.counters.get(name) || 0) + 1); }
  observe(name, ms) {
    const h = this.histograms.get(name);
    if (h) h[Math.min(63, Math.floor(Math.log2(1 + ms) * 6))]++;
  }
}

// ---------------------------------------------------------------------------
// The application state. Everything reachable from here is what the
// snapshot is about; it hangs off globalThis like a real app's singletons.
// ---------------------------------------------------------------------------
function createApp() {
  const app = {
    startedAt: new Date(EPOCH - 5 * DAY),
    config: { port: 0, env: 'production', logLevel: 'info', db: { host: 'db.internal', pool: 16 } },
    tenants: [],
    users: new Map(),              // id -> User
    usersByEmail: new Map(),       // string key -> User
    sessions: new Map(),           // sid -> Session
    orders: new Map(),             // order id -> Order
    queryCache: new LruCache(1e9), // effectively unbounded in server mode
    profileLoads: new Map(),       // userId -> Promise (memoized loader)
    userMeta: new WeakMap(),       // User -> rate limit / login meta
    sessionSockets: new WeakMap(), // Session -> socket-ish info
    inflight: new Map(),           // request id -> RequestContext (pending promises)
    recentRequests: [],            // ring buffer of finished RequestContexts
    recentRequestsCap: 2000,
    auditStreams: [],              // heads of AuditEntry linked lists
    activity: [],                  // array of plain records
    avatars: new Map(),            // userId -> Buffer (1-16 KB)
    bus: new EventEmitter(),       // global bus, many listeners
    metrics: new MetricsRegistry(),
    db: [],
    routes: [],
    timers: [],
    seq: { order: 0, request: 0, audit: 0 },
    // ladder-mode state (see runLadder)
    requestLog: new Map(),
  };
  app.bus.setMaxListeners(0);
  for (let i = 0; i < 16; i++) app.db.push(new DbConnection(i));
  buildRoutes(app);
  buildConfigTree(app, 300);
  globalThis.__app = app;
  return app;
}

// Route table: each handler is a closure over its route record and the
// middleware stack, which is a chain of closures each capturing `next`.
function buildRoutes(app) {
  const compose = (layers) => layers.reduceRight(
    (next, layer) => function middleware(req, res) { return layer(req, res, next); },
    (req, res) => res);
  const auth = (req, res, next) => (req.headers && req.headers.cookie ? next(req, res) : res);
  const log = (req, res, next) => { app.metrics.inc('requests'); return next(req, res); };
  for (const [method, pattern] of ROUTES) {
    const route = { method, pattern, re: new RegExp('^' + pattern.replace(/:[a-z]+/g, '([^/]+)') + '$'), hits: 0 };
    const timing = (req, res, next) => { route.hits++; return next(req, res); };
    route.handler = compose([log, timing, auth]);
    route.bound = route.handler.bind(null);
    app.routes.push(route);
  }
  // A deep middleware chain (a plugin system wrapping itself 300 times):
  // a closure/context retention chain hundreds of levels deep.
  const deep = [];
  for (let i = 0; i < 300; i++) deep.push((req, res, next) => next(req, res));
  app.pluginChain = compose(deep);
}

function buildConfigTree(app, depth) {
  const root = new ConfigNode('root', null);
  let cur = root;
  for (let i = 0; i < depth; i++) {
    const child = new ConfigNode('level' + i, cur);
    cur.children.push(child);
    if (chance(0.3)) cur.children.push(new ConfigNode('leaf' + i, cur));
    cur = child;
  }
  app.configTree = root;
}

// Start an http.Server on 127.0.0.1:0 and make a few keep-alive requests so
// live sockets, parsers and IncomingMessage objects are in the heap too.
async function startServer(app) {
  const server = http.createServer((req, res) => {
    const route = app.routes.find((r) => r.method === req.method && r.re.test(req.url.split('?')[0]));
    const ctx = new RequestContext('req-' + (++app.seq.request), req.method, req.url, null);
    if (route) route.handler(ctx, res);
    const body = JSON.stringify({ ok: !!route, id: ctx.id, path: ctx.path });
    res.writeHead(route ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 10 * 60e3;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  app.server = server;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  app.agent = agent;
  const port = server.address().port;
  const get = (p) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    }).on('error', reject);
  });
  const paths = ['/healthz', '/metrics', '/api/users/1', '/api/products?page=2', '/api/orders/ord_1', '/api/search?q=widget', '/nope', '/api/reports/daily'];
  await Promise.all(paths.map(get));
  app.lastResponses = await Promise.all(paths.slice(0, 4).map(get));
  log(`http server listening on 127.0.0.1:${port}, ${paths.length + 4} requests served`);

  // Process-wide timers, as a real service has (metrics flush, cache sweep).
  app.timers.push(setInterval(() => { app.metrics.inc('flush'); }, 1000));
  app.timers.push(setInterval(() => { app.metrics.inc('sweep'); }, 30e3));
  app.timers.push(setTimeout(() => { app.metrics.inc('warmup-done'); }, 3600e3));
}

async function shutdown(app) {
  for (const t of app.timers) clearTimeout(t);
  app.timers.length = 0;
  for (const s of app.sessions.values()) if (s.idleTimer) clearTimeout(s.idleTimer);
  if (app.agent) app.agent.destroy();
  if (app.server) {
    app.server.closeAllConnections();
    await new Promise((resolve) => app.server.close(resolve));
  }
  log('server closed, timers cleared');
}

// ---------------------------------------------------------------------------
// One "user" is the unit of scale in server mode: the user, 0-2 sessions with
// emitters/closures/timers, orders, cache entries, promises, buffers...
// ---------------------------------------------------------------------------
function tenantFor(app, userId) {
  // ~1 tenant per 150 users, so tenant emitters get ~50-200 listeners.
  const idx = Math.floor(userId / 150);
  while (app.tenants.length <= idx) app.tenants.push(new Tenant(app.tenants.length + 1));
  return app.tenants[idx];
}

function addUser(app, id) {
  const tenant = tenantFor(app, id);
  const user = new User(id, tenant);
  app.users.set(id, user);
  app.usersByEmail.set(user.email, user);
  tenant.userIds.push(id);
  app.userMeta.set(user, {
    failedLogins: rint(3),
    lastIp: '192.168.' + rint(256) + '.' + rint(256),
    flags: new Uint8Array(8),
    rateLimit: { tokens: rint(100), refilledAt: EPOCH - rint(60e3) },
  });

  const nOrders = rint(5);
  for (let i = 0; i < nOrders; i++) {
    const o = new Order(++app.seq.order, user);
    app.orders.set(o.id, o);
    user.orders.push(o);
  }

  const r = rng();
  const nSessions = r < 0.3 ? 0 : r < 0.85 ? 1 : 2;
  for (let i = 0; i < nSessions; i++) addSession(app, user, tenant);

  if (user.orders.length > 0 || chance(0.3)) addCacheEntry(app, user, tenant);
  if (chance(0.4)) addCacheEntry(app, user, tenant);

  // Memoized async loader: resolved promise per user.
  if (chance(0.5)) app.profileLoads.set(id, Promise.resolve(user.profile));

  if (chance(0.07)) {
    const avatar = Buffer.alloc(1024 * (1 + rint(16)));
    avatar[0] = 0x89; avatar[1] = 0x50;                   // PNG-ish header
    app.avatars.set(id, avatar);
  }

  // Array of plain records (activity feed), a few per user.
  for (let i = rint(3); i > 0; i--) {
    app.activity.push({ ts: past(2), userId: id, kind: pick(['view', 'click', 'purchase', 'search']), ref: 'p' + rint(1e4), durationMs: rng() * 500 });
  }

  // Audit stream: appended to the newest chain; start a new chain every
  // 200-600 entries, giving many linked lists a few hundred deep.
  let stream = app.auditStreams[app.auditStreams.length - 1];
  if (!stream || stream.length >= stream.limit) {
    stream = { head: null, length: 0, limit: 200 + rint(400) };
    app.auditStreams.push(stream);
  }
  for (let i = 1 + rint(2); i > 0; i--) {
    stream.head = new AuditEntry(++app.seq.audit, stream.head, id, pick(['login', 'update', 'order', 'logout']));
    stream.length++;
  }

  // A finished request kept in the ring buffer (recent request log).
  if (chance(0.2)) {
    const ctx = new RequestContext('req-' + (++app.seq.request), 'GET', '/api/users/' + id + '?page=1', null);
    ctx.respond(200, null);
    app.recentRequests[app.seq.request % app.recentRequestsCap] = ctx;
  }
  return user;
}

function addSession(app, user, tenant, opts = {}) {
  const sid = hex(32);
  const s = new Session(user, sid, chance(0.5));
  app.sessions.set(sid, s);
  user.sessionIds.push(sid);
  tenant.activeUsers.add(user.id);
  wireSession(app, s, user, tenant, opts);

  if (chance(0.4)) {
    // Medium JSON payload (last request body) and a slice of it (sliced string).
    s.lastPayload = JSON.stringify({
      action: pick(['update_profile', 'add_to_cart', 'checkout', 'search']),
      userId: user.id,
      items: s.data.cart,
      client: { ua: s.userAgent.slice(0, 40), locale: user.profile.locale },
      nonce: hex(12),
    });
    s.preview = s.lastPayload.slice(1, 48);
  }
  app.sessionSockets.set(s, { remotePort: 1024 + rint(60000), bytesRead: rint(1e6), tls: chance(0.8) });

  // Idle timeout for some sessions. Durations come from a small set, so Node
  // keeps one timer list per duration (linked lists hundreds long).
  if (!opts.noTimer && chance(0.25)) {
    s.idleTimer = setTimeout(() => { s.emitter.emit('timeout'); }, (30 + rint(40)) * 60e3);
    s.idleTimer.unref();
  }

  // Long-poll style pending request: an unresolved promise with a then-chain.
  if (!opts.noPending && chance(0.08)) {
    const ctx = new RequestContext('req-' + (++app.seq.request), 'GET', '/api/events?since=' + rint(1e6), s);
    ctx.done = new Promise((resolve, reject) => { ctx.resolve = resolve; ctx.reject = reject; });
    ctx.done.then((r) => { app.metrics.observe('GET /api/search', 1); return r; }).catch((e) => { s.lastError = e; });
    app.inflight.set(ctx.id, ctx);
  }
  return s;
}

// Session listeners: several per session emitter, one on the tenant emitter
// (tenant emitters collect many), a few on the global bus. All closures share
// this invocation's context (s, user, tenant, counters), as in real code.
function wireSession(app, s, user, tenant) {
  let bytesIn = 0;
  let messages = 0;
  const openedAt = s.createdAt.getTime();
  s.emitter.on('data', (chunk) => { bytesIn += chunk.length; messages++; });
  s.emitter.on('close', () => {
    app.sessions.delete(s.sid);
    tenant.activeUsers.delete(user.id);
    tenant.events.removeListener('settings-changed', onSettings);
    if (onBroadcast) app.bus.removeListener('broadcast', onBroadcast);
  });
  s.emitter.on('error', function onSessionError(err) { s.lastError = err; app.metrics.inc('session_errors'); });
  if (chance(0.5)) s.emitter.on('timeout', () => s.emitter.emit('close', Date.now() - openedAt));
  if (chance(0.3)) s.emitter.once('auth', (token) => { s.data.authedWith = token; });
  s.touch = s.touch.bind(s, user.id);                     // bound function
  s.stats = () => ({ bytesIn, messages });
  function onSettings(settings) { s.data.theme = settings.theme; }
  tenant.events.on('settings-changed', onSettings);
  const onBroadcast = chance(0.05) ? (msg) => s.emitter.emit('data', msg) : null;
  if (onBroadcast) app.bus.on('broadcast', onBroadcast);
}

function addCacheEntry(app, user, tenant) {
  const sql = pick(SQL);
  const params = [user.id, tenant.id];
  const rows = user.orders.slice(0, 5).map((o) => ({
    id: o.id, status: o.status, total: o.total, created_at: o.createdAt.toISOString(),
  }));
  const key = sql.slice(0, 32) + '|' + JSON.stringify(params) + '|' + hex(4);
  const e = new QueryCacheEntry(sql, params, rows, EPOCH - rint(600e3));
  if (chance(0.25)) e.rawJson = JSON.stringify(rows);
  app.queryCache.set(key, e);
}

// ---------------------------------------------------------------------------
// Snapshot writing + header check
// ---------------------------------------------------------------------------
function readHeader(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const head = buf.toString('utf8', 0, n);
  const num = (k) => Number((head.match(new RegExp('"' + k + '":(\\d+)')) || [])[1]);
  return { node_count: num('node_count'), edge_count: num('edge_count') };
}

function writeSnapshot(file) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  log(`writing snapshot ${file} ...`);
  const t = Date.now();
  v8.writeHeapSnapshot(file);
  const size = fs.statSync(file).size;
  const h = readHeader(file);
  const gb = size / 1e9;
  const res = {
    file, bytes: size, node_count: h.node_count, edge_count: h.edge_count,
    write_s: (Date.now() - t) / 1000,
  };
  log(`wrote ${file}: ${(size / MB).toFixed(1)} MB, nodes=${h.node_count} edges=${h.edge_count} ` +
    `(${(h.node_count / gb / 1e6).toFixed(1)}M nodes/GB, ${(h.edge_count / gb / 1e6).toFixed(1)}M edges/GB, ` +
    `${(h.edge_count / h.node_count).toFixed(2)} edges/node) in ${res.write_s.toFixed(1)}s`);
  // Machine-readable summary line on stdout (used by --calibrate).
  process.stdout.write(JSON.stringify(res) + '\n');
  return res;
}

// ---------------------------------------------------------------------------
// Heap limit: the JS heap ends up at ~0.65x the snapshot file size (620 MiB
// for a 1 GB file). V8's snapshot writer needs ~4x more outside the JS heap
// (peak RSS ~5.4 GB for 1 GB), which --max-old-space-size does not limit.
// If the estimate does not fit the current limit, re-run this script with a
// bigger --max-old-space-size (Node's default here is ~4 GB, so only huge
// targets or an explicitly small limit trigger this).
// ---------------------------------------------------------------------------
function ensureHeapLimit(neededMiB, args) {
  const limit = v8.getHeapStatistics().heap_size_limit / 1048576;
  if (neededMiB <= limit) return;
  if (!args.reexec || process.env.LEAKHUNT_GEN_CHILD) {
    log(`warning: heap limit ${limit.toFixed(0)} MiB < estimated ${neededMiB.toFixed(0)} MiB; ` +
      `run with node --max-old-space-size=${Math.ceil(neededMiB)}`);
    return;
  }
  const flag = `--max-old-space-size=${Math.ceil(neededMiB)}`;
  log(`re-executing with ${flag}`);
  const r = spawnSync(process.execPath, [...process.execArgv, flag, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, LEAKHUNT_GEN_CHILD: '1' },
  });
  process.exit(r.status === null ? 1 : r.status);
}

// ---------------------------------------------------------------------------
// Mode 1: a single server-like snapshot of a target size.
// ---------------------------------------------------------------------------
async function runServer(args) {
  let users = args.users;
  if (users === undefined) {
    if (!(args.sizeMb > 0)) die('need --size-mb N or --users N');
    users = Math.max(0, Math.round((args.sizeMb * MB - CALIBRATION.serverBase) / CALIBRATION.serverPerUser));
  }
  if (!args.out) die('need --out FILE');
  const estBytes = CALIBRATION.serverBase + CALIBRATION.serverPerUser * users;
  ensureHeapLimit(Math.max(512, (estBytes * 1.2) / 1048576 + 256), args);

  seed(args.seed);
  log(`server mode: ${users} users (estimated snapshot ${(estBytes / MB).toFixed(0)} MB)`);
  const app = createApp();
  await startServer(app);
  buildUsers(app, 0, users);
  app.bus.emit('broadcast', 'ready');
  writeSnapshot(args.out);
  await shutdown(app);
}

// ---------------------------------------------------------------------------
// Mode 1b: a snapshot too big for V8's writer on this machine (it needs ~5x the file in
// memory): one heap of the right size written by V8, then K copies of it in one file
// (tile.js). The strings (~6.7% of a server snapshot) are shared by the copies; the rest
// is written once per copy, ~2.8% shorter than V8 writes it (no line breaks, though longer
// ids), measured at 3 copies of 870 MB.
// ---------------------------------------------------------------------------
const STRINGS_SHARE = 0.067;
const COPY_SHARE = 0.972;

function runTiled(args) {
  if (!(args.sizeMb > 0) || !args.out) die('--tiles needs --size-mb N and --out FILE');
  if (!Number.isInteger(args.tiles)) die('--tiles wants an integer');
  const perCopy = args.sizeMb / (COPY_SHARE * args.tiles + STRINGS_SHARE);
  // The source stays beside the result: its summary times K is what the result's must be.
  const source = args.out.replace(/\.heapsnapshot$/, '') + '.tile-source.heapsnapshot';
  log(`tiled mode: one heap of ~${perCopy.toFixed(0)} MB, ${args.tiles} copies`);
  const run = (argv) => {
    const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) die(`failed: ${argv.join(' ')}`);
  };
  if (!fs.existsSync(source)) {
    run([__filename, '--size-mb', perCopy.toFixed(1), '--seed', String(args.seed), '--out', source]);
  }
  run([path.join(__dirname, 'tile.js'), '--from', source, '--copies', String(args.tiles), '--out', args.out]);
}

function buildUsers(app, from, count) {
  const step = Math.max(1, Math.floor(count / 10));
  for (let i = 0; i < count; i++) {
    addUser(app, from + i + 1);
    if ((i + 1) % step === 0) log(`built ${i + 1}/${count} users`);
  }
}

// ---------------------------------------------------------------------------
// Mode 2: leak ladder. One process, N snapshots after equal rounds of work.
// Each round serves the same number of requests. Per request:
//   - churn (freed): a temporary session + request context + parsed body +
//     buffers, wired to emitters and then closed/unwired properly;
//   - steady leak: a listener on the global bus capturing the request
//     context ('user-updated', never removed) and an entry in
//     app.requestLog (a Map that is never pruned);
//   - bounded cache: query cache entries in an LRU whose capacity is reached
//     around round 2, so it grows, then plateaus (a leak detector should not
//     blame it).
// ---------------------------------------------------------------------------
function planLadder(targets) {
  const n = targets.length;
  const t = targets.map((x) => x * MB);
  const C = CALIBRATION;
  const minBase = C.ladderBase;
  let L, B, E, cap;
  if (n === 1) {
    B = minBase; L = t[0] - B; E = 0; cap = 0;
  } else {
    L = t[n - 1] - t[n - 2];                      // last step: cache already full
    // c_k = t_k - B - k*L is the cache share at snapshot k; want c_1 = E and
    // c_2 = cap <= 2E (cache fills during round 2). That bounds B <= 2 t1 - t2.
    B = n >= 3 ? Math.min(2 * t[0] - t[1], t[0] - L) : minBase;
    B = Math.max(minBase, B);
    E = Math.max(0, t[0] - L - B);
    cap = n >= 3 ? Math.max(E, t[1] - 2 * L - B) : E;
  }
  const plan = {
    baseUsers: Math.max(0, Math.round((B - minBase) / C.serverPerUser)),
    leaksPerRound: Math.max(0, Math.round(L / C.ladderPerLeak)),
    cachePerRound: Math.max(0, Math.round(E / C.ladderPerCacheEntry)),
    cacheCap: Math.max(1, Math.round(cap / C.ladderPerCacheEntry)),
    rounds: n,
  };
  plan.expectedMb = [];
  for (let k = 1; k <= n; k++) {
    const cache = Math.min(k * plan.cachePerRound, plan.cacheCap);
    plan.expectedMb.push(+((minBase + plan.baseUsers * C.serverPerUser + k * plan.leaksPerRound * C.ladderPerLeak +
      cache * C.ladderPerCacheEntry) / MB).toFixed(1));
  }
  return plan;
}

async function runLadder(args) {
  if (!args.outDir) die('need --out-dir DIR');
  let plan;
  if (args.ladderRaw) {
    // baseUsers,leaksPerRound,cachePerRound,cacheCap,rounds (for calibration)
    const [baseUsers, leaksPerRound, cachePerRound, cacheCap, rounds] = args.ladderRaw.split(',').map(Number);
    plan = { baseUsers, leaksPerRound, cachePerRound, cacheCap: Math.max(1, cacheCap), rounds };
  } else {
    plan = planLadder(args.ladder);
  }
  const last = (CALIBRATION.ladderBase + plan.baseUsers * CALIBRATION.serverPerUser +
    plan.rounds * plan.leaksPerRound * CALIBRATION.ladderPerLeak + plan.cacheCap * CALIBRATION.ladderPerCacheEntry);
  ensureHeapLimit(Math.max(512, (last * 1.2) / 1048576 + 256), args);

  seed(args.seed);
  log(`ladder plan: ${JSON.stringify(plan)}`);
  const app = createApp();
  app.queryCache = new LruCache(plan.cacheCap);
  await startServer(app);
  buildUsers(app, 0, plan.baseUsers);
  // A small pool of "known" users the simulated traffic belongs to.
  const poolUsers = [];
  for (let i = 0; i < 200; i++) poolUsers.push(addUser(app, plan.baseUsers + i + 1));

  const results = [];
  for (let round = 1; round <= plan.rounds; round++) {
    ladderRound(app, round, plan, poolUsers);
    // Let the event loop run (timers, microtasks) between rounds, as a real
    // server would between bursts of traffic.
    await new Promise((r) => setImmediate(r));
    results.push(writeSnapshot(path.join(args.outDir, `s${round}.heapsnapshot`)));
  }
  await shutdown(app);
  return results;
}

function ladderRound(app, round, plan, poolUsers) {
  // Interleave leaking requests and cache inserts so every round is the same
  // mixture of work; churn happens on every request.
  const n = Math.max(plan.leaksPerRound, plan.cachePerRound);
  let leaks = 0, cached = 0;
  const step = Math.max(1, Math.floor(n / 4));
  for (let i = 0; i < n; i++) {
    const user = pick(poolUsers);
    const tenant = tenantFor(app, user.id);
    const ctx = churnRequest(app, user, tenant);
    // Bresenham-style spread so both counts are hit exactly.
    if (Math.floor(((i + 1) * plan.leaksPerRound) / n) > leaks) {
      leaks++;
      leakRequest(app, ctx, round);
    }
    if (Math.floor(((i + 1) * plan.cachePerRound) / n) > cached) {
      cached++;
      addCacheEntry(app, user, tenant);
    }
    if ((i + 1) % step === 0) log(`round ${round}: ${i + 1}/${n} requests`);
  }
}

// A request whose objects all become garbage afterwards (if not leaked).
function churnRequest(app, user, tenant) {
  const s = addSession(app, user, tenant, { noTimer: true, noPending: true });
  const id = 'req-' + (++app.seq.request);
  const ctx = new RequestContext(id, 'POST', '/api/orders?src=web&r=' + rint(1e6), s);
  const raw = JSON.stringify({ items: [{ sku: 'SKU-' + rint(9999), qty: 1 + rint(3) }], coupon: chance(0.2) ? hex(8) : null });
  ctx.body = JSON.parse(raw);
  const scratch = Buffer.alloc(512 + rint(2048));       // e.g. a compression buffer
  scratch.write(raw);
  s.emitter.emit('data', scratch);
  ctx.respond(201, { ok: true, bytes: scratch.length });
  // Proper cleanup: the session closes, which unregisters its listeners.
  s.emitter.emit('close');
  s.emitter.removeAllListeners();
  user.sessionIds.pop();
  return ctx;
}

// The planted leak: a per-request subscription on the global bus that is never
// removed (retains the RequestContext, its session and headers), plus a
// request log Map that is never pruned.
function leakRequest(app, ctx, round) {
  const startedAt = ctx.startedAt;
  app.bus.on('user-updated', function onUserUpdated(u) {
    if (ctx.user && u && u.id === ctx.user.id) ctx.state = 'stale:' + (Date.now() - startedAt);
  });
  app.requestLog.set(ctx.id, {
    round,
    method: ctx.method,
    path: ctx.path,
    status: ctx.status,
    userId: ctx.user ? ctx.user.id : null,
    at: new Date(ctx.startedAt),
    headers: ctx.headers,
  });
}

// ---------------------------------------------------------------------------
// --calibrate: measure the size constants by running this script at a few
// scales in child processes and fitting lines. Prints a CALIBRATION block.
// ---------------------------------------------------------------------------
function runCalibrate(args) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-heap-cal-'));
  const run = (extra) => {
    const r = spawnSync(process.execPath, [__filename, '--seed', String(args.seed), ...extra], {
      stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24,
    });
    if (r.status !== 0) die(`calibration run failed: ${extra.join(' ')}`);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  };
  const fit = (xs, ys) => {
    const n = xs.length, mx = xs.reduce((a, b) => a + b) / n, my = ys.reduce((a, b) => a + b) / n;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
    const slope = sxy / sxx;
    return { slope, intercept: my - slope * mx };
  };
  const scales = [2000, 10000, 30000];
  const sizes = scales.map((u) => {
    const f = path.join(dir, `u${u}.heapsnapshot`);
    const [r] = run(['--users', String(u), '--out', f]);
    fs.unlinkSync(f);
    return r.bytes;
  });
  const srv = fit(scales, sizes);
  // Ladder: 3 rounds of pure leak, then 3 rounds of pure cache (cap never hit).
  const leakRes = run(['--ladder-raw', '0,10000,0,1,3', '--out-dir', path.join(dir, 'leak')]);
  const cacheRes = run(['--ladder-raw', '0,0,10000,1000000,3', '--out-dir', path.join(dir, 'cache')]);
  const perLeak = fit([1, 2, 3], leakRes.map((r) => r.bytes));
  const perCache = fit([1, 2, 3], cacheRes.map((r) => r.bytes));
  fs.rmSync(dir, { recursive: true, force: true });
  const out = {
    serverBase: Math.round(srv.intercept),
    serverPerUser: Math.round(srv.slope),
    ladderPerLeak: Math.round(perLeak.slope / 10000),
    ladderPerCacheEntry: Math.round(perCache.slope / 10000),
    // The leak run is the closer model of a real ladder (leaks dominate).
    ladderBase: Math.round(perLeak.intercept),
  };
  process.stderr.write(`server sizes ${JSON.stringify(scales)} -> ${JSON.stringify(sizes)}\n`);
  process.stderr.write(`ladder leak sizes ${JSON.stringify(leakRes.map((r) => r.bytes))}\n`);
  process.stderr.write(`ladder cache sizes ${JSON.stringify(cacheRes.map((r) => r.bytes))}\n`);
  process.stderr.write(`const CALIBRATION = ${JSON.stringify(out, null, 2)};\n`);
}

// ---------------------------------------------------------------------------
async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.calibrate) return runCalibrate(args);
  if (args.ladder || args.ladderRaw) return runLadder(args);
  if (args.tiles > 1) return runTiled(args);
  if (args.sizeMb !== undefined || args.users !== undefined) return runServer(args);
  usage(2);
}

if (require.main === module) {
  main().then(() => log('done')).catch((err) => {
    process.stderr.write(`server-heap: ${err && err.stack || err}\n`);
    process.exit(1);
  });
}
// bench/run.js reads the ladder plan (how many leaks and cache entries per
// round) to check leak detectors against it.
module.exports = { planLadder, CALIBRATION };
