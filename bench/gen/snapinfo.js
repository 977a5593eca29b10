#!/usr/bin/env node
'use strict';
// Print size and node/edge counts of .heapsnapshot files by reading only the
// first 4 KB (the "snapshot" header). Works on files JSON.parse cannot load.
//   node snapinfo.js FILE...
const fs = require('fs');
for (const file of process.argv.slice(2)) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const head = buf.toString('utf8', 0, n);
  const num = (k) => Number((head.match(new RegExp('"' + k + '":(\\d+)')) || [])[1]);
  const bytes = fs.statSync(file).size;
  const nodes = num('node_count'), edges = num('edge_count'), gb = bytes / 1e9;
  console.log(`${file}\t${(bytes / 1e6).toFixed(1)} MB\tnodes=${nodes}\tedges=${edges}\t` +
    `${(nodes / gb / 1e6).toFixed(1)}M nodes/GB\t${(edges / gb / 1e6).toFixed(1)}M edges/GB\t${(edges / nodes).toFixed(2)} edges/node`);
}
