#!/usr/bin/env node
// Prints the numbers of Chrome DevTools' Memory-panel Summary view for one
// .heapsnapshot, computed by DevTools' own heap snapshot worker code (bundled
// in the npm package `heap-snapshot-toolkit`). bench/run.js uses it both as a
// benchmark peer and as the reference that leakhunt's numbers are checked
// against. Adapted from /work/notes/devtools-aggregates.js (summary part only).
//
// Usage:  node bench/devtools-summary.js FILE
//   env HST_DIR=DIR   folder whose node_modules holds heap-snapshot-toolkit
//                     (bench/run.sh installs it in $LEAKHUNT_BENCH_DIR/peers)
// Large files need a bigger heap: NODE_OPTIONS=--max-old-space-size=16000
//
// Output: one JSON line
//   {file, nodeCount, edgeCount, totalSize, extraNativeBytes,
//    summaryFooter: {count, size},
//    classes: [{key, name, count, distance, self, retained}],   // retained desc
//    perf: {parseAndInitMs, aggregatesMs, peakRssBytes}}
// `key` is DevTools' class key: ",Name" for name-keyed classes, or
// "scriptId,line,col,Name" when an object class is split by source location.
// `retained` is the Summary "Retained Size" column (aggregate.maxRet: the sum
// over the outermost instances of that key in the dominator tree).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const {pathToFileURL} = require('node:url');

async function loadToolkit() {
  // The toolkit is an ES module; resolve it from HST_DIR first so the bench can
  // keep its peers outside the repository.
  const bases = [process.env.HST_DIR, __dirname, process.cwd()].filter(Boolean);
  const entry = require.resolve('heap-snapshot-toolkit', {paths: bases});
  return import(pathToFileURL(entry).href);
}

async function main() {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) {
    console.error('usage: devtools-summary.js FILE');
    process.exit(2);
  }
  const toolkit = await loadToolkit();
  const t0 = process.hrtime.bigint();
  // parse() streams the file through DevTools' HeapSnapshotLoader and runs
  // JSHeapSnapshot.initialize() (folding, dominators, distances, interface
  // inference ...), with the "second worker" on a MessageChannel.
  const snapshot = await toolkit.parse(fs.createReadStream(file, 'utf-8'));
  const t1 = process.hrtime.bigint();
  // The same call the Summary view makes for "All objects": an empty filter.
  const {NodeFilter} = toolkit.DevToolsAPI.HeapSnapshotModel;
  const aggregates = snapshot.aggregatesWithFilter(new NodeFilter());
  const t2 = process.hrtime.bigint();

  const classes = [];
  let footerCount = 0;
  let footerSize = 0;
  for (const key of Object.keys(aggregates)) {
    const a = aggregates[key];
    footerCount += a.count;
    footerSize += a.self;
    classes.push({key, name: a.name, count: a.count, distance: a.distance, self: a.self, retained: a.maxRet});
  }
  classes.sort((x, y) => y.retained - x.retained || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));

  const out = {
    file: path.resolve(file),
    nodeCount: snapshot.nodeCount,
    edgeCount: snapshot.containmentEdges.length / snapshot.edgeFieldsCount,
    totalSize: snapshot.totalSize,
    extraNativeBytes: snapshot.profile.snapshot.extra_native_bytes ?? 0,
    summaryFooter: {count: footerCount, size: footerSize},
    classes,
    perf: {
      parseAndInitMs: Number(t1 - t0) / 1e6,
      aggregatesMs: Number(t2 - t1) / 1e6,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(e => {
  console.error(e && e.stack || e);
  process.exit(1);
});
