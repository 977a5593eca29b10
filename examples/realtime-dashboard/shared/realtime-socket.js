// Stands in for a WebSocket to the realtime API (so the example needs nothing but Node):
// an EventEmitter that turns pushed payloads into 'message' events, and a process-wide hub
// that pushes broadcasts to every open socket.
'use strict';
const { EventEmitter } = require('events');

const hub = new EventEmitter();
hub.setMaxListeners(0);

class RealtimeSocket extends EventEmitter {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 1;
    this.backlog = []; // recent messages, replayed to late subscribers
  }

  receive(payload) {
    if (this.readyState !== 1) return;
    this.backlog.push(payload);
    if (this.backlog.length > 20) this.backlog.shift();
    this.emit('message', { data: payload });
  }

  close() {
    this.readyState = 3;
    this.backlog = [];
  }
}

module.exports = { hub, RealtimeSocket };
