// The dashboard service as shipped: logout leaves the realtime subscription behind.
'use strict';
require('../shared/app').start(require('./realtime'));
