#!/usr/bin/env node
'use strict';
/*
 * same-class.js — a leak ladder whose collection holds objects of its own class, the shape
 * that once made `leakhunt leaks` quadratic (issue 7). One process grows one collection by
 * the same number of elements per round and writes a heap snapshot after each round:
 *
 *   node same-class.js --shape array  --elements 1000000 --out-dir DIR   (array of arrays)
 *   node same-class.js --shape object --elements 1000000 --out-dir DIR   (object of objects)
 *   node same-class.js --shape map    --elements 1000000 --out-dir DIR   (Map of objects)
 *   node same-class.js --shape list   --elements 1000000 --out-dir DIR   (linked list, `next`)
 *
 * --elements is the collection's size in the last snapshot; --rounds (default 3) snapshots
 * are written as DIR/s1.heapsnapshot … after equal rounds. The elements are small (two
 * numbers, or a number and a short string) so that the heap stays dominated by them.
 * Prints one JSON line per snapshot on stdout ({file, bytes, node_count, edge_count}).
 */

const fs = require('fs');
const path = require('path');
const v8 = require('v8');

const SHAPES = ['array', 'object', 'map', 'list'];

function parseArgs(argv) {
  const a = { rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${k}`);
      return argv[++i];
    };
    switch (k) {
      case '--shape': a.shape = next(); break;
      case '--elements': a.elements = Number(next()); break;
      case '--rounds': a.rounds = Number(next()); break;
      case '--out-dir': a.outDir = next(); break;
      case '-h': case '--help': usage(0); break;
      default: die(`unknown argument ${k}`);
    }
  }
  if (!SHAPES.includes(a.shape)) die(`--shape wants one of ${SHAPES.join(', ')}`);
  if (!(Number.isInteger(a.elements) && a.elements >= a.rounds)) die('--elements wants an integer >= --rounds');
  if (!(Number.isInteger(a.rounds) && a.rounds >= 1)) die('--rounds wants an integer >= 1');
  if (!a.outDir) die('need --out-dir DIR');
  return a;
}

function usage(code) {
  process.stderr.write('usage: node same-class.js --shape array|object|map|list --elements N --out-dir DIR [--rounds 3]\n');
  process.exit(code);
}

function die(msg) {
  process.stderr.write(`same-class: ${msg}\n`);
  process.exit(2);
}

// Each shape: a holder kept by a module variable, and `add(i)` that grows it by one element
// of the holder's own class (the Map holds plain objects: a Map of Maps would be 1M tables).
function collection(shape) {
  switch (shape) {
    case 'array': {
      const rows = [];
      return { holder: rows, add: (i) => rows.push([i, i * 2]) };
    }
    case 'object': {
      const byKey = {};
      return { holder: byKey, add: (i) => { byKey['k' + i] = { id: i, name: 'n' + i }; } };
    }
    case 'map': {
      const byId = new Map();
      return { holder: byId, add: (i) => byId.set(i, { id: i, name: 'n' + i }) };
    }
    case 'list': {
      // Appended at the tail: every round's new links hang below the previous round's last.
      const head = { id: -1, next: null };
      let tail = head;
      return {
        holder: head,
        add: (i) => {
          const link = { id: i, next: null };
          tail.next = link;
          tail = link;
        },
      };
    }
  }
  throw new Error(shape);
}

function header(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const head = buf.toString('utf8', 0, n);
  const num = (k) => Number((head.match(new RegExp('"' + k + '":(\\d+)')) || [])[1]);
  return { node_count: num('node_count'), edge_count: num('edge_count') };
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  fs.mkdirSync(a.outDir, { recursive: true });
  const c = collection(a.shape);
  globalThis.__sameClass = c.holder; // held the way a module-level cache is
  let added = 0;
  let round = 0;
  const step = () => {
    round++;
    const target = Math.round((a.elements * round) / a.rounds);
    for (; added < target; added++) c.add(added);
    const file = path.join(a.outDir, `s${round}.heapsnapshot`);
    v8.writeHeapSnapshot(file);
    process.stdout.write(JSON.stringify({ file, bytes: fs.statSync(file).size, ...header(file) }) + '\n');
    // Snapshots are taken from the event loop, as a service's would be.
    if (round < a.rounds) setImmediate(step);
  };
  setImmediate(step);
}

main();
