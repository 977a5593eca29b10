// Live notifications for a logged-in user: open a realtime socket, route its messages into
// the query cache, and subscribe the socket to the process-wide broadcast hub.
'use strict';
const { hub, RealtimeSocket } = require('../shared/realtime-socket');

function setupRealtimeUpdates(userId, queryClient) {
  const ws = new RealtimeSocket(`wss://api.example.com/realtime?user=${userId}`);

  ws.on('message', (event) => {
    const data = JSON.parse(event.data);
    queryClient.setQueryData(['notifications', userId], data);
  });

  ws.on('error', (error) => {
    console.error('WebSocket error:', error);
  });

  // The bug: nothing ever removes this subscription, so the hub keeps every socket (and its
  // listeners and backlog) of every user that ever logged in.
  hub.on('broadcast', (payload) => ws.receive(payload));

  return null; // no cleanup
}

module.exports = { setupRealtimeUpdates };
