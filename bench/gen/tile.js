#!/usr/bin/env node
'use strict';
/*
 * tile.js — a bigger heap snapshot from a real one: K copies of the source heap side by
 * side in one snapshot, as if K identical programs shared one heap. V8's snapshot writer
 * needs about 5× a snapshot's size in memory, so a 2.5 GB snapshot written by Node would take
 * some 13 GB; this writes one from an 850 MB source with about 1 GB.
 *
 *   node tile.js --from server-870mb.heapsnapshot --copies 3 --out server-2500mb.heapsnapshot
 *
 * Copy k's nodes follow copy k-1's; node ids are renumbered densely (node n of copy k gets
 * 2 (k N + n), plus 1 where its id was odd: V8's ids reach billions, and K copies of them
 * would not fit in 32 bits), edges and locations point into their own copy. WeakMap entries'
 * edge names carry node ids (`… pair in WeakMap (table @85)`): each copy gets its own copy
 * of those names, with its ids.
 * The synthetic root of copy 0 takes the root edges of every copy (so every copy's global
 * objects are user roots, as in the source); the other copies' roots stay, empty and of size
 * 0. The strings are shared. So every count, size and class of the source appears exactly K
 * times: a reader and its analyses must report K times the source's totals.
 *
 * The numbers are written without V8's line breaks (whitespace to a JSON reader).
 *
 * Prints one JSON line: {file, bytes, copies, node_count, edge_count, total_self_size}, the
 * totals counted while writing (an independent check of what a reader reports).
 */

const fs = require('fs');

const CHUNK = 64 << 20;

function parseArgs(argv) {
  const a = { copies: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${k}`);
      return argv[++i];
    };
    switch (k) {
      case '--from': a.from = next(); break;
      case '--copies': a.copies = Number(next()); break;
      case '--out': a.out = next(); break;
      case '-h': case '--help':
        process.stderr.write('usage: node tile.js --from SNAPSHOT --copies K --out FILE\n');
        process.exit(0);
        break;
      default: die(`unknown argument ${k}`);
    }
  }
  if (!a.from || !a.out) die('need --from SNAPSHOT and --out FILE');
  if (!(Number.isInteger(a.copies) && a.copies >= 1)) die('--copies wants an integer >= 1');
  return a;
}

function die(msg) {
  process.stderr.write(`tile: ${msg}\n`);
  process.exit(2);
}

function log(msg) {
  process.stderr.write(`[tile ${(process.uptime()).toFixed(1)}s] ${msg}\n`);
}

/** Reads a file forward in chunks; numbers and markers are parsed off the bytes. */
class Input {
  constructor(file) {
    this.fd = fs.openSync(file, 'r');
    this.size = fs.fstatSync(this.fd).size;
    this.buf = Buffer.alloc(CHUNK);
    this.len = 0;
    this.i = 0;
    this.base = 0; // file offset of buf[0]
  }

  fill() {
    const keep = this.len - this.i;
    this.buf.copy(this.buf, 0, this.i, this.len);
    this.base += this.i;
    this.i = 0;
    this.len = keep + fs.readSync(this.fd, this.buf, keep, CHUNK - keep, this.base + keep);
    return this.len > keep;
  }

  /** Skips past `marker` (ASCII), returning false at end of file. */
  skipPast(marker) {
    for (;;) {
      const at = this.buf.indexOf(marker, this.i, 'latin1');
      if (at >= 0 && at + marker.length <= this.len) {
        this.i = at + marker.length;
        return true;
      }
      this.i = Math.max(this.i, this.len - marker.length);
      if (!this.fill()) return false;
    }
  }

  /** The bytes from here up to (not including) `marker`, which is skipped. */
  takeUntil(marker) {
    const parts = [];
    for (;;) {
      const at = this.buf.indexOf(marker, this.i, 'latin1');
      if (at >= 0 && at + marker.length <= this.len) {
        parts.push(Buffer.from(this.buf.subarray(this.i, at)));
        this.i = at + marker.length;
        return Buffer.concat(parts);
      }
      const upTo = Math.max(this.i, this.len - marker.length);
      parts.push(Buffer.from(this.buf.subarray(this.i, upTo)));
      this.i = upTo;
      if (!this.fill()) die(`no ${marker} in the source`);
    }
  }

  /** Reads `count` unsigned integers of a JSON array into `out` (a typed array). */
  numbers(out, count) {
    let k = 0;
    let v = 0;
    let inNumber = false;
    while (k < count) {
      if (this.i === this.len && !this.fill()) die('source ends inside a number array');
      const buf = this.buf;
      const len = this.len;
      let i = this.i;
      for (; i < len && k < count; i++) {
        const c = buf[i];
        if (c >= 48 && c <= 57) {
          v = v * 10 + (c - 48);
          inNumber = true;
        } else if (inNumber) {
          out[k++] = v;
          v = 0;
          inNumber = false;
        }
      }
      this.i = i;
    }
  }

  /** Reads a JSON array of unsigned integers of unknown length, ending at `]`. */
  numberList() {
    const text = this.takeUntil(']').toString('latin1');
    return text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  }

  /** Everything left. */
  rest(write) {
    write(this.buf.subarray(this.i, this.len));
    this.i = this.len;
    while (this.fill()) {
      write(this.buf.subarray(0, this.len));
      this.i = this.len;
    }
  }
}

/** Buffered output of numbers and text. */
class Output {
  constructor(file) {
    this.fd = fs.openSync(file, 'w', 0o600);
    this.parts = [];
    this.pending = 0;
    this.bytes = 0;
  }

  text(s) {
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending > (8 << 20)) this.flush();
  }

  raw(buf) {
    this.flush();
    fs.writeSync(this.fd, buf);
    this.bytes += buf.length;
  }

  flush() {
    if (!this.parts.length) return;
    const b = Buffer.from(this.parts.join(''), 'latin1');
    fs.writeSync(this.fd, b);
    this.bytes += b.length;
    this.parts = [];
    this.pending = 0;
  }

  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

// The writer encodes text as latin1, so every string is written as V8 writes it: pure ASCII,
// anything else as a \uXXXX escape (a raw latin1 byte would not be UTF-8).
const asciiJson = (str) => JSON.stringify(str).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));

function main() {
  const a = parseArgs(process.argv.slice(2));
  const K = a.copies;
  const inp = new Input(a.from);
  inp.fill();
  const headText = inp.takeUntil('"nodes":[').toString('utf8');
  const head = JSON.parse(headText.replace(/,\s*$/, '') + '}');
  const s = head.snapshot;
  const nodeFields = s.meta.node_fields;
  const edgeFields = s.meta.edge_fields;
  const F = nodeFields.length;
  const EF = edgeFields.length;
  const N = s.node_count;
  const E = s.edge_count;
  const ID = nodeFields.indexOf('id');
  const SIZE = nodeFields.indexOf('self_size');
  const EDGES = nodeFields.indexOf('edge_count');
  const TO = edgeFields.indexOf('to_node');
  if (ID < 0 || SIZE < 0 || EDGES < 0 || TO < 0) die('unexpected meta in the source');
  log(`source: ${N} nodes, ${E} edges; writing ${K} copies`);

  // Self sizes can pass 2^32: nodes are read as doubles, edges as 32-bit integers.
  const nodes = new Float64Array(N * F);
  inp.numbers(nodes, N * F);
  if (!inp.skipPast('"edges":[')) die('no edges in the source');
  const edges = new Uint32Array(E * EF);
  inp.numbers(edges, E * EF);
  log('read nodes and edges');
  // trace_function_infos, trace_tree and samples are kept once, as they are.
  // (after the edges' closing bracket, which the last number may or may not have ended at)
  const middle = Buffer.from(inp.takeUntil('"locations":[').toString('latin1').replace(/^\s*\]/, ''), 'latin1');
  const locations = inp.numberList();
  const tail = inp.takeUntil('"strings":[');
  const stringsText = [];
  inp.rest((b) => stringsText.push(Buffer.from(b)));
  const strings = JSON.parse('[' + Buffer.concat(stringsText).toString('utf8').replace(/\}\s*$/, ''));
  log(`read ${strings.length} strings`);

  let selfSize = 0;
  for (let n = 0; n < N; n++) selfSize += nodes[n * F + SIZE];
  const newId = (k, n) => 2 * (k * N + n) + (nodes[n * F + ID] % 2);

  // WeakMap entry names (`<n> / part of key (Foo @12) -> value (Bar @34) pair in WeakMap
  // (table @56)`): the ids they name, and each copy's own version of them.
  const EPHEMERON = /^\d+ \/ part of key \(.* @\d+\) -> value \(.* @\d+\) pair in WeakMap \(table @\d+\)$/;
  const ephemeral = [];
  strings.forEach((str, i) => { if (EPHEMERON.test(str)) ephemeral.push(i); });
  const named = new Map();
  for (const i of ephemeral) for (const m of strings[i].matchAll(/@(\d+)\)/g)) named.set(Number(m[1]), -1);
  for (let n = 0; n < N; n++) if (named.has(nodes[n * F + ID])) named.set(nodes[n * F + ID], n);
  // renamed[k].get(i): the index of copy k's version of string i.
  const renamed = [];
  for (let k = 0; k < K; k++) {
    const map = new Map();
    for (const i of ephemeral) {
      map.set(i, strings.length);
      strings.push(strings[i].replace(/@(\d+)\)/g, (all, id) => {
        const n = named.get(Number(id));
        return n >= 0 ? `@${newId(k, n)})` : all;
      }));
    }
    renamed.push(map);
  }
  log(`${ephemeral.length} WeakMap entry names, one version per copy`);
  const edgeTypes = s.meta.edge_types[0];
  const TYPE = edgeFields.indexOf('type');
  const NAME = edgeFields.indexOf('name_or_index');
  const numericName = new Set(['element', 'hidden'].map((t) => edgeTypes.indexOf(t)));
  const rootEdges = nodes[EDGES];

  const snapshot = { ...s, node_count: N * K, edge_count: E * K };
  if (typeof s.extra_native_bytes === 'number') snapshot.extra_native_bytes = s.extra_native_bytes * K;
  const out = new Output(a.out);
  out.text(`{"snapshot":${JSON.stringify(snapshot)},\n"nodes":[`);
  let first = true;
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const o = n * F;
      let line = '';
      for (let f = 0; f < F; f++) {
        let v = nodes[o + f];
        if (f === ID) v = newId(k, n);
        else if (f === EDGES && n === 0) v = k === 0 ? rootEdges * K : 0;
        line += (f === 0 ? '' : ',') + v;
      }
      out.text((first ? '' : ',') + line);
      first = false;
    }
    log(`wrote nodes of copy ${k + 1}`);
  }
  out.text('],\n"edges":[');
  first = true;
  const writeEdges = (k, from, to) => {
    const shift = k * N * F;
    for (let e = from; e < to; e++) {
      const o = e * EF;
      let line = '';
      for (let f = 0; f < EF; f++) {
        let v = edges[o + f];
        if (f === TO) v += shift;
        else if (f === NAME && !numericName.has(edges[o + TYPE]) && renamed[k].has(v)) v = renamed[k].get(v);
        line += (f === 0 ? '' : ',') + v;
      }
      out.text((first ? '' : ',') + line);
      first = false;
    }
  };
  // The root's edges come first: every copy's, then each copy's other nodes in order.
  for (let k = 0; k < K; k++) writeEdges(k, 0, rootEdges);
  for (let k = 0; k < K; k++) {
    writeEdges(k, rootEdges, E);
    log(`wrote edges of copy ${k + 1}`);
  }
  out.text(']');
  out.raw(middle);
  out.text('"locations":[');
  first = true;
  for (let k = 0; k < K; k++) {
    for (let l = 0; l + 3 < locations.length; l += 4) {
      out.text(`${first ? '' : ','}${locations[l] + k * N * F},${locations[l + 1]},${locations[l + 2]},${locations[l + 3]}`);
      first = false;
    }
  }
  out.text(']');
  out.raw(tail);
  out.text('"strings":[');
  for (let i = 0; i < strings.length; i++) out.text((i ? ',\n' : '') + asciiJson(strings[i]));
  out.text(']}\n');
  out.close();
  const res = {
    file: a.out,
    bytes: fs.statSync(a.out).size,
    copies: K,
    node_count: N * K,
    edge_count: E * K,
    total_self_size: selfSize * K + (snapshot.extra_native_bytes || 0),
  };
  log(`done: ${(res.bytes / 1e6).toFixed(1)} MB`);
  process.stdout.write(JSON.stringify(res) + '\n');
}

main();
