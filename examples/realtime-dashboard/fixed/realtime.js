// Live notifications for a logged-in user, with cleanup: the returned function removes the
// listeners and closes the socket, and logout calls it.
'use strict';
const { hub, RealtimeSocket } = require('../shared/realtime-socket');

function setupRealtimeUpdates(userId, queryClient) {
  const ws = new RealtimeSocket(`wss://api.example.com/realtime?user=${userId}`);

  const handleMessage = (event) => {
    const data = JSON.parse(event.data);
    queryClient.setQueryData(['notifications', userId], data);
  };
  const handleError = (error) => {
    console.error('WebSocket error:', error);
  };
  const forward = (payload) => ws.receive(payload);

  ws.on('message', handleMessage);
  ws.on('error', handleError);
  hub.on('broadcast', forward);

  return () => {
    hub.off('broadcast', forward);
    ws.off('message', handleMessage);
    ws.off('error', handleError);
    ws.close();
  };
}

module.exports = { setupRealtimeUpdates };
