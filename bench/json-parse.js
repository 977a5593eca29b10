#!/usr/bin/env node
// Baseline peer: the naive way to load a snapshot in Node, reading the whole
// file into one string and calling JSON.parse on it. Any JS tool that starts
// with this cannot get faster than this row. On large files it fails: V8
// strings are limited to 2^29-24 characters (~536 MB), so readFileSync(...,
// 'utf8') throws "Cannot create a string longer than 0x1fffffe8 characters".
//
// Usage: node bench/json-parse.js FILE
// Prints one JSON line {file, nodes, edges, readMs, parseMs}; on failure the
// error message goes to stderr and the exit status is 1.
'use strict';

const fs = require('node:fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: json-parse.js FILE');
  process.exit(2);
}
try {
  const t0 = process.hrtime.bigint();
  const text = fs.readFileSync(file, 'utf8');
  const t1 = process.hrtime.bigint();
  const json = JSON.parse(text);
  const t2 = process.hrtime.bigint();
  // Touch the result so the work cannot be considered dead.
  const meta = json.snapshot;
  process.stdout.write(JSON.stringify({
    file,
    nodes: meta.node_count,
    edges: meta.edge_count,
    readMs: Number(t1 - t0) / 1e6,
    parseMs: Number(t2 - t1) / 1e6,
  }) + '\n');
} catch (e) {
  // One line the bench can show as the failure reason.
  console.error(`${e.name}: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  process.exit(1);
}
