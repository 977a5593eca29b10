// Cuts a real heap snapshot down to a fuzzing seed: the first N nodes a breadth-first walk
// from the root reaches, with their edges among themselves, the strings they use and their
// locations, in the input's own layout (meta, field order, one record a line or not).
//   node fuzz/shrink.js IN.heapsnapshot OUT_PREFIX N
// writes OUT_PREFIX.heapsnapshot, OUT_PREFIX-reordered.heapsnapshot (edges before nodes,
// strings first) and OUT_PREFIX.heapsnapshot.gz.
'use strict';
const fs = require('fs');
const zlib = require('zlib');

const [input, prefix, limitArg] = process.argv.slice(2);
const limit = Number(limitArg);
const snap = JSON.parse(fs.readFileSync(input, 'utf8'));
const meta = snap.snapshot.meta;
const nf = meta.node_fields.length;
const ef = meta.edge_fields.length;
const f = (fields, name) => fields.indexOf(name);
const [nName, nEdges] = ['name', 'edge_count'].map((n) => f(meta.node_fields, n));
const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((n) => f(meta.edge_fields, n));
const edgeTypes = meta.edge_types[0];
const nodeCount = snap.nodes.length / nf;

// First edge of every node.
const firstEdge = new Array(nodeCount + 1);
firstEdge[0] = 0;
for (let n = 0; n < nodeCount; n++) firstEdge[n + 1] = firstEdge[n] + snap.nodes[n * nf + nEdges];

// Breadth-first from the root.
const kept = new Map([[0, true]]);
const queue = [0];
while (queue.length && kept.size < limit) {
  const n = queue.shift();
  for (let e = firstEdge[n]; e < firstEdge[n + 1] && kept.size < limit; e++) {
    const to = snap.edges[e * ef + eTo] / nf;
    if (!kept.has(to)) {
      kept.set(to, true);
      queue.push(to);
    }
  }
}
const order = [...kept.keys()].sort((a, b) => a - b);
const newIndex = new Map(order.map((n, i) => [n, i]));

// Strings in use, renumbered in order of first use (0 stays 0: `<dummy>` or Bun's "").
const strings = [snap.strings[0]];
const stringIndex = new Map([[0, 0]]);
const str = (i) => {
  if (!stringIndex.has(i)) {
    stringIndex.set(i, strings.length);
    strings.push(snap.strings[i]);
  }
  return stringIndex.get(i);
};

const nodes = [];
const edges = [];
for (const n of order) {
  const rec = snap.nodes.slice(n * nf, n * nf + nf);
  rec[nName] = str(rec[nName]);
  let count = 0;
  for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) {
    const erec = snap.edges.slice(e * ef, e * ef + ef);
    const to = erec[eTo] / nf;
    if (!newIndex.has(to)) continue;
    erec[eTo] = newIndex.get(to) * nf;
    const t = edgeTypes[erec[eType]];
    if (t !== 'element' && t !== 'hidden') erec[eName] = str(erec[eName]);
    edges.push(...erec);
    count++;
  }
  rec[nEdges] = count;
  nodes.push(...rec);
}

const locations = [];
const lf = (meta.location_fields || []).length;
if (lf) {
  const lo = f(meta.location_fields, 'object_index');
  for (let i = 0; i < snap.locations.length; i += lf) {
    const rec = snap.locations.slice(i, i + lf);
    const n = rec[lo] / nf;
    if (!newIndex.has(n)) continue;
    rec[lo] = newIndex.get(n) * nf;
    locations.push(...rec);
  }
}

// The input's text style: Node 20 writes a record a line, Node 24 and Bun one line.
const text = fs.readFileSync(input, 'latin1');
const multiLine = /"nodes":\[[^\]]{0,200}\n/.test(text);
const array = (values, stride) => {
  if (!multiLine) return `[${values.join(',')}]`;
  const lines = [];
  for (let i = 0; i < values.length; i += stride) lines.push(values.slice(i, i + stride).join(','));
  return `[${lines.join('\n,')}]`;
};
const header = { ...snap.snapshot, node_count: order.length, edge_count: edges.length / ef };
const parts = {
  snapshot: JSON.stringify(header),
  nodes: array(nodes, nf),
  edges: array(edges, ef),
  trace_function_infos: '[]',
  trace_tree: '[]',
  samples: '[]',
  locations: array(locations, lf || 1),
  strings: `[${strings.map((s) => JSON.stringify(s)).join(multiLine ? ',\n' : ',')}]`,
};
const keys = Object.keys(snap).filter((k) => k in parts);
const doc = (order) => `{${order.map((k) => `"${k}":${parts[k]}`).join(multiLine ? ',\n' : ',')}}`;
const plain = doc(keys);
fs.writeFileSync(`${prefix}.heapsnapshot`, plain);
const reordered = ['strings', 'snapshot', 'edges', 'nodes', ...keys.filter((k) => !['strings', 'snapshot', 'edges', 'nodes'].includes(k))];
fs.writeFileSync(`${prefix}-reordered.heapsnapshot`, doc(reordered));
fs.writeFileSync(`${prefix}.heapsnapshot.gz`, zlib.gzipSync(plain));
