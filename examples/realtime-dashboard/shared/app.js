// The dashboard service: log in, look at your dashboard, log out. The realtime module
// (subscriptions to live notifications) is passed in, so the leaky and the fixed service
// differ only there.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { QueryCache } = require('./query-cache');
const { hub } = require('./realtime-socket');

function start(realtime) {
  const queryClient = new QueryCache({ maxEntries: 200 });
  const sessions = new Map(); // session id → { user, unsubscribe }

  function login(body) {
    const { email, password } = JSON.parse(body || '{}');
    if (!email || password !== 'password123') return null;
    const user = {
      id: crypto.createHash('sha1').update(email).digest('hex').slice(0, 12),
      email,
      preferences: { theme: 'dark', widgets: ['revenue', 'signups', 'churn', 'latency'] },
    };
    const sid = crypto.randomBytes(16).toString('hex');
    const unsubscribe = realtime.setupRealtimeUpdates(user.id, queryClient);
    sessions.set(sid, { user, unsubscribe });
    return sid;
  }

  function dashboard(session) {
    const { user } = session;
    const day = new Date().toISOString().slice(0, 10);
    const key = ['dashboard', user.preferences.widgets.join(','), day];
    let data = queryClient.get(key);
    if (!data) {
      data = user.preferences.widgets.map((w) => ({
        widget: w,
        series: Array.from({ length: 48 }, (_, i) => Math.round(1000 * Math.sin(i / 7) + i)),
      }));
      queryClient.setQueryData(key, data);
    }
    const notifications = queryClient.get(['notifications', user.id]) || [];
    return { user: user.email, widgets: data, notifications };
  }

  function logout(sid) {
    const session = sessions.get(sid);
    if (!session) return false;
    if (session.unsubscribe) session.unsubscribe();
    sessions.delete(sid);
    return true;
  }

  function sessionOf(req) {
    const m = /(?:^|;\s*)sid=([0-9a-f]+)/.exec(req.headers.cookie || '');
    return m ? [m[1], sessions.get(m[1])] : [null, null];
  }

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const send = (status, value, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      const [sid, session] = sessionOf(req);
      if (req.method === 'POST' && req.url === '/api/login') {
        const newSid = login(body);
        if (!newSid) return send(401, { error: 'invalid credentials' });
        return send(200, { ok: true }, { 'set-cookie': `sid=${newSid}; Path=/; HttpOnly` });
      }
      if (req.method === 'GET' && req.url === '/api/dashboard') {
        if (!session) return send(401, { error: 'not logged in' });
        return send(200, dashboard(session));
      }
      if (req.method === 'POST' && req.url === '/api/logout') {
        logout(sid);
        return send(200, { ok: true }, { 'set-cookie': 'sid=; Path=/; Max-Age=0' });
      }
      if (req.url === '/health') return send(200, { ok: true, sessions: sessions.size });
      send(404, { error: 'not found' });
    });
  });

  // Live notifications for everyone, a few times a second.
  const ticker = setInterval(() => hub.emit('broadcast', JSON.stringify({ at: Date.now(), kind: 'tick' })), 250);
  ticker.unref();

  const port = Number(process.env.PORT || 3000);
  server.listen(port, '127.0.0.1', () => {
    console.log(`dashboard listening on http://127.0.0.1:${server.address().port}`);
  });
  return server;
}

module.exports = { start };
