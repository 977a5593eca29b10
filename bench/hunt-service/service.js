#!/usr/bin/env node
'use strict';
/*
 * A service with a big live heap, for the bench's hunt at scale (bench/scale.js): before it
 * listens it builds HEAP_MB (default 1500) MiB of server-like state (see build()) and then
 * leaks per request: every POST /api/events keeps the request's
 * event record, with its payload, in a module-level array that is never trimmed.
 *
 *   PORT=3000 HEAP_MB=1500 node --max-old-space-size=6000 service.js
 *
 * Everything random is from a seeded generator, so the heap is the same shape every run.
 */

const http = require('http');

const HEAP_MB = Number(process.env.HEAP_MB || 1500);
const PORT = Number(process.env.PORT || 3000);

let seed = 7;
function rand() {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const rint = (n) => Math.floor(rand() * n);
const hex = (n) => Array.from({ length: n }, () => rint(16).toString(16)).join('');
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const word = () => WORDS[rint(WORDS.length)];

class User {
  constructor(id) {
    this.id = id;
    this.email = `user${id}.${hex(6)}@example.com`;
    this.name = `${word()} ${word()} ${id}`;
    this.createdAt = new Date(1.7e12 + rint(1e10));
    this.profile = { bio: `${word()} `.repeat(4 + rint(12)) + hex(8), city: word(), score: rand() * 100 };
    this.tags = new Set([word(), word(), word()]);
    this.settings = new Map([['theme', rint(2) ? 'dark' : 'light'], ['lang', 'en'], ['tz', `UTC+${rint(12)}`]]);
    this.orders = [];
    const orders = 1 + rint(4);
    for (let i = 0; i < orders; i++) this.orders.push(new Order(id * 10 + i));
    this.recent = Array.from({ length: 3 + rint(5) }, () => `/items/${rint(1e6)}`);
    this.avatar = rint(20) === 0 ? Buffer.alloc(1024 + rint(4096)) : null;
  }
}

class Order {
  constructor(id) {
    this.id = id;
    this.status = ['new', 'paid', 'shipped'][rint(3)];
    this.total = rint(100000) / 100;
    this.items = Array.from({ length: 1 + rint(3) }, () => ({ sku: `SKU-${rint(99999)}`, qty: 1 + rint(3) }));
    this.tracking = rint(2) ? hex(16) : null;
  }
}

// --- the state a long-running service holds ----------------------------------------------
// About 40% of it in objects (users with their orders, sessions), 40% in rendered pages kept
// as Buffers (8–24 kB each, with a title string), 20% in per-route latency histograms
// (Float64Arrays): a heap of 1.5 GB whose snapshot stays a few hundred MB, as a real
// service's does.
const users = new Map();
const byEmail = new Map();
const sessions = new Map();
const pageCache = new Map();
const histograms = new Map();

const liveBytes = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

function build() {
  const t0 = Date.now();
  const limit = HEAP_MB * 1048576;
  let id = 0;
  while (liveBytes() < 0.4 * limit) {
    for (let k = 0; k < 5000; k++) {
      const u = new User(++id);
      users.set(u.id, u);
      byEmail.set(u.email, u);
      if (rint(3) === 0) sessions.set(hex(24), { userId: u.id, startedAt: Date.now(), csrf: hex(32) });
    }
  }
  let pages = 0;
  while (liveBytes() < 0.8 * limit) {
    for (let k = 0; k < 1000; k++) {
      const html = `<html><body><h1>${word()} ${hex(8)}</h1>` + `<p>${word()} ${word()}</p>`.repeat(400 + rint(1200)) + '</body></html>';
      // Kept encoded, as a response cache does (a string's text would be in the snapshot).
      pageCache.set(`/page/${++pages}`, { body: Buffer.from(html), title: html.slice(0, 40), etag: hex(16), renderedAt: Date.now() });
    }
  }
  let routes = 0;
  while (liveBytes() < limit) {
    const h = new Float64Array(512 + rint(8192));
    for (let i = 0; i < h.length; i += 64) h[i] = rand();
    histograms.set(`route-${++routes}`, { h, count: rint(1e6) });
  }
  console.error(`service: built ${id} users, ${pages} pages, ${routes} histograms: ` +
    `${(liveBytes() / 1048576).toFixed(0)} MiB live in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

// --- the leak: an event log nobody trims ----------------------------------------------------
const eventLog = [];

function handle(req, res, body) {
  if (req.method === 'POST' && req.url === '/api/events') {
    let event;
    try {
      event = JSON.parse(body || '{}');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const user = users.get(Number(event.user)) || null;
    eventLog.push({ at: Date.now(), user: user && user.id, kind: String(event.kind), payload: `${event.kind}:${hex(48)}` });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  if (req.method === 'GET' && req.url.startsWith('/api/users/')) {
    const u = users.get(Number(req.url.slice('/api/users/'.length)));
    res.writeHead(u ? 200 : 404, { 'content-type': 'application/json' }).end(u ? JSON.stringify({ id: u.id, name: u.name }) : '{}');
    return;
  }
  res.writeHead(404).end();
}

build();
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => handle(req, res, body));
}).listen(PORT, '127.0.0.1', () => console.error(`service: listening on ${PORT}`));
