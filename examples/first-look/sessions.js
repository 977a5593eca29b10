// A tiny stand-in for a service with the walkthrough's bug: every login subscribes a
// handler to a process-wide event bus, and logout forgets to unsubscribe. After 1000
// users have come and gone, their sessions are still alive, held by the bus's listeners.
//
//   node sessions.js OUT.heapsnapshot
const { EventEmitter } = require('events');

const bus = new EventEmitter();
bus.setMaxListeners(0);

class Session {
  constructor(userId) {
    this.userId = userId;
    this.email = `user${userId}@example.com`;
    this.profile = { theme: 'dark', widgets: new Array(64).fill(userId) };
    this.history = Buffer.alloc(4096, userId % 256);
  }
}

function login(userId) {
  const session = new Session(userId);
  // Leak: the handler closes over `session` and is never removed.
  bus.on('notification', function handleNotification(msg) {
    session.lastMessage = msg;
  });
  return session;
}

function logout(session) {
  session.loggedOut = true; // should also call bus.off('notification', handler)
}

for (let i = 0; i < 1000; i++) logout(login(i));

require('v8').writeHeapSnapshot(process.argv[2] || 'sessions.heapsnapshot');
