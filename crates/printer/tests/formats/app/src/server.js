// A small service that leaks: every session adds a listener to a shared bus and never
// removes it. (Read by the printer's tests for the HTML report's source excerpt.)
const { EventEmitter } = require('node:events');
const http = require('node:http');

const bus = new EventEmitter();
const cache = new Map();

function startSession(req) {
  const session = { id: Math.random(), buffer: Buffer.alloc(4096), req };
  bus.on('message', (m) => {
    session.last = m;
  });
  cache.set(session.id, session);
  return session;
}

http.createServer((req, res) => {
  startSession(req);
  res.end('ok');
}).listen(process.env.PORT || 3000);
