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
//    mergedRetained: {leakhuntName: bytes},
//    perf: {parseAndInitMs, aggregatesMs, mergedRetainedMs, peakRssBytes}}
// `key` is DevTools' class key: ",Name" for name-keyed classes, or
// "scriptId,line,col,Name" when an object class is split by source location.
// `retained` is the Summary "Retained Size" column (aggregate.maxRet: the sum
// over the outermost instances of that key in the dominator tree).
// `mergedRetained` is an extra check for classes that DevTools splits into
// several keys (`{a, b}` interfaces, location-split constructors, `Detached `
// renames): the same outermost-instance walk over DevTools' own dominator
// tree, but with the keys merged into leakhunt's class names. It is not
// something the DevTools UI shows; bench/run.js subtracts its time
// (perf.mergedRetainedMs) from this tool's wall time.
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

// DevTools class name -> leakhunt class name (see bench/README.md):
//   Function -> (closure); {a, b} -> Object; Detached X -> X.
// Location-split keys already carry the plain constructor name in `name`.
function leakhuntNameFor(name) {
  if (name === 'Function') return '(closure)';
  if (name.startsWith('{') && name.endsWith('}')) return 'Object';
  if (name.startsWith('Detached ')) return name.slice('Detached '.length);
  return name;
}

// A copy of HeapSnapshot.calculateClassesRetainedSize (DevTools' Summary
// "Retained Size": sum of retained sizes of the outermost instances of each
// class in the dominator tree, nodes with folded self size 0 skipped), keyed
// by leakhunt name instead of DevTools' class key.
function mergedRetainedSizes(snapshot) {
  const nodeFieldCount = snapshot.nodeFieldCount;
  const dominatedNodes = snapshot.dominatedNodes;
  const firstDominatedNodeIndex = snapshot.firstDominatedNodeIndex;
  const node = snapshot.createNode(snapshot.rootNodeIndexInternal);
  const nameCache = new Map();
  const keyOf = () => {
    const raw = node.className();
    let key = nameCache.get(raw);
    if (key === undefined) nameCache.set(raw, key = leakhuntNameFor(raw));
    return key;
  };
  const result = new Map();
  const seen = new Map();
  const list = [snapshot.rootNodeIndexInternal];
  const sizes = [-1];
  const keys = [];
  while (list.length) {
    const nodeIndex = list.pop();
    node.nodeIndex = nodeIndex;
    let key = keyOf();
    const nodeOrdinal = nodeIndex / nodeFieldCount;
    const from = firstDominatedNodeIndex[nodeOrdinal];
    const to = firstDominatedNodeIndex[nodeOrdinal + 1];
    if (!seen.get(key) && node.selfSize()) {
      result.set(key, (result.get(key) || 0) + node.retainedSize());
      if (from !== to) {
        seen.set(key, true);
        sizes.push(list.length);
        keys.push(key);
      }
    }
    for (let i = from; i < to; i++) list.push(dominatedNodes[i]);
    const l = list.length;
    while (sizes[sizes.length - 1] === l) {
      sizes.pop();
      key = keys.pop();
      seen.set(key, false);
    }
  }
  return Object.fromEntries(result);
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
  const t3 = process.hrtime.bigint();
  const mergedRetained = mergedRetainedSizes(snapshot);
  const t4 = process.hrtime.bigint();

  const out = {
    file: path.resolve(file),
    nodeCount: snapshot.nodeCount,
    edgeCount: snapshot.containmentEdges.length / snapshot.edgeFieldsCount,
    totalSize: snapshot.totalSize,
    extraNativeBytes: snapshot.profile.snapshot.extra_native_bytes ?? 0,
    summaryFooter: {count: footerCount, size: footerSize},
    classes,
    mergedRetained,
    perf: {
      parseAndInitMs: Number(t1 - t0) / 1e6,
      aggregatesMs: Number(t2 - t1) / 1e6,
      mergedRetainedMs: Number(t4 - t3) / 1e6,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (require.main === module) {
  main().catch(e => {
    console.error(e && e.stack || e);
    process.exit(1);
  });
}
module.exports = {leakhuntNameFor};
