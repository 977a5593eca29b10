// The dashboard service after the fix: logout unsubscribes and closes the socket.
'use strict';
require('../shared/app').start(require('./realtime'));
