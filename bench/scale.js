#!/usr/bin/env node
// leakhunt at scale (issue 7). Normally started by `bench/run.sh --sections scale`, which
// builds leakhunt first. Three parts (--parts, default all):
//
// ladders: for each shape of bench/gen/same-class.js (an array of arrays, an object of
//   objects, a Map of objects, a linked list) and each size (--elements, default 10k, 100k,
//   1M elements in the last snapshot), a ladder of 3 snapshots of one process; then
//   `leakhunt leaks s1 s2 s3 --json` and `leakhunt summary s3 --json --top 0`, one after the
//   other, --runs times: medians side by side, and leaks ÷ summary (the goal: at most 3 at
//   1M elements; the work must grow linearly with the elements).
// big: `leakhunt summary` on the 1 GB server snapshot and on a ~2.5 GB one (3 copies of an
//   ~840 MB heap: bench/gen/server-heap.js --tiles), alternately, --runs times. The 2.5 GB
//   result is checked against the generator's own counts (nodes, edges, total size) and
//   against 3 × leakhunt's summary of the copied heap, class by class.
// hunt: `leakhunt hunt` on bench/hunt-service/service.js, a service holding --heap-mb
//   (1500) MiB of live heap that leaks per request: wall time, leakhunt's peak memory (and
//   the service's), the verdict and the top suspect.
//
// Prints a Markdown report and writes it to --out (default bench/results/scale-<date>.md).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const {spawn} = require('node:child_process');
const {measureQuiet, machineInfo, snapshotHeader, ensureSnapshot, failureReason, log, int, secs, mb, median} = require('./run.js');

const ROOT = path.resolve(__dirname, '..');
const PARTS = ['ladders', 'big', 'hunt'];
const SHAPES = ['array', 'object', 'map', 'list'];

function usage(code) {
  process.stderr.write(`usage: bench/run.sh --sections scale [options]
  --parts LIST        ladders,big,hunt (default all)
  --elements LIST     ladders: elements in the last snapshot (default 10000,100000,1000000)
  --shapes LIST       ladders: array,object,map,list (default all)
  --big-mb N          big: size of the large snapshot in MB (default 2500)
  --heap-mb N         hunt: the service's live heap in MiB (default 1500)
  --runs N            runs of each leakhunt command (default 3)
  --max-other-load C  repeat a run during which others used more than C cores (default 0.25)
  --retries N         (default 2)
  --timeout S         kill a run after S seconds (default 3600)
  --out FILE          default bench/results/scale-<date>.md
`);
  process.exit(code);
}

function parseArgs(argv) {
  const a = {
    parts: [...PARTS], elements: [10000, 100000, 1000000], shapes: [...SHAPES], bigMb: 2500, heapMb: 1500,
    runs: 3, maxOther: 0.25, retries: 2, timeoutS: 3600,
    out: path.join(ROOT, 'bench', 'results', `scale-${new Date().toISOString().slice(0, 10)}.md`),
  };
  const list = s => s.split(',').map(x => x.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(2);
      return argv[++i];
    };
    switch (k) {
      case '--sections': next(); break; // run.sh's, already dispatched here
      case '--parts': a.parts = list(next()); break;
      case '--elements': a.elements = list(next()).map(Number); break;
      case '--shapes': a.shapes = list(next()); break;
      case '--big-mb': a.bigMb = Number(next()); break;
      case '--heap-mb': a.heapMb = Number(next()); break;
      case '--runs': a.runs = Number(next()); break;
      case '--max-other-load': a.maxOther = Number(next()); break;
      case '--retries': a.retries = Number(next()); break;
      case '--timeout': a.timeoutS = Number(next()); break;
      case '--out': a.out = path.resolve(next()); break;
      case '-h': case '--help': usage(0); break;
      default: process.stderr.write(`scale: unknown argument ${k}\n`); usage(2);
    }
  }
  if (a.parts.some(p => !PARTS.includes(p))) usage(2);
  if (a.shapes.some(s => !SHAPES.includes(s))) usage(2);
  return a;
}

// Runs a generator to completion; its stdout (JSON lines) is returned.
function generate(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {stdio: ['ignore', 'pipe', 'inherit']});
    let out = '';
    child.stdout.on('data', d => { out += d; });
    child.on('exit', code => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited with ${code}`))));
  });
}

// A ladder of the shape, generated into a temporary folder and renamed when complete.
async function ensureLadder(benchDir, shape, elements) {
  const dir = path.join(benchDir, 'scale', `${shape}-${elements}`);
  if (fs.existsSync(path.join(dir, 's3.heapsnapshot'))) return dir;
  const tmp = `${dir}.partial-${process.pid}`;
  log(`generating ${dir}`);
  await generate([path.join(ROOT, 'bench/gen/same-class.js'), '--shape', shape, '--elements', String(elements), '--out-dir', tmp]);
  fs.rmSync(dir, {recursive: true, force: true});
  fs.renameSync(tmp, dir);
  return dir;
}

// --runs of each command in turn (a, b, a, b, …), so that both meet the same machine.
async function sideBySide(commands, ctx) {
  const results = commands.map(() => []);
  for (let r = 0; r < ctx.args.runs; r++) {
    for (const [i, c] of commands.entries()) {
      const m = await measureQuiet(`${c.label}-${r}`, c.argv, {workDir: ctx.workDir, timeoutS: ctx.args.timeoutS, okExit: [0, 1], env: c.env || process.env}, ctx.quiet);
      if (![0, 1].includes(m.exitCode)) throw new Error(`${c.label} failed: ${failureReason(m)}`);
      results[i].push(m);
    }
  }
  return results.map(runs => ({
    runs,
    wallS: median(runs.map(x => x.wallS)),
    bestS: Math.min(...runs.map(x => x.wallS)),
    peakRssBytes: Math.max(...runs.map(x => x.peakRssBytes || 0)),
    other: Math.max(...runs.map(x => x.otherCores || 0)),
  }));
}

async function runLadders(ctx) {
  const rows = [];
  for (const shape of ctx.args.shapes) {
    for (const n of ctx.args.elements) {
      const dir = await ensureLadder(ctx.benchDir, shape, n);
      const files = [1, 2, 3].map(k => path.join(dir, `s${k}.heapsnapshot`));
      log(`${shape} × ${n}: leaks and summary, ${ctx.args.runs} runs each`);
      const [leaks, summary] = await sideBySide([
        {label: `leaks-${shape}-${n}`, argv: [ctx.leakhunt, 'leaks', ...files, '--json']},
        {label: `summary-${shape}-${n}`, argv: [ctx.leakhunt, 'summary', files[2], '--json', '--top', '0']},
      ], ctx);
      const report = JSON.parse(fs.readFileSync(leaks.runs[0].files.stdout, 'utf8'));
      const top = report.suspects[0];
      rows.push({shape, n, header: snapshotHeader(files[2]), leaks, summary,
        verdict: top ? `${top.pattern} ${top.class}, +${int(top.count_per_step)} ${top.count_unit || 'objects'}/step` : 'clean'});
    }
  }
  return rows;
}

// One summary's JSON as class name → row.
const classesOf = file => new Map(JSON.parse(fs.readFileSync(file, 'utf8')).classes.map(c => [c.class, c]));

async function runBig(ctx) {
  const oneGb = await ensureSnapshot(ctx.benchDir, 1000);
  const bigName = `server-${ctx.args.bigMb}mb.heapsnapshot`;
  const big = path.join(ctx.benchDir, bigName);
  const facts = `${big}.json`;
  const copies = 3;
  if (!fs.existsSync(big) || !fs.existsSync(facts)) {
    const tmp = path.join(ctx.benchDir, `.partial-${process.pid}-${bigName}`);
    log(`generating ${big}: ${copies} copies of one heap (about 3 minutes, ~5 GB RAM)`);
    const out = await generate([path.join(ROOT, 'bench/gen/server-heap.js'), '--size-mb', String(ctx.args.bigMb), '--tiles', String(copies), '--out', tmp]);
    const line = JSON.parse(out.trim().split('\n').pop());
    fs.renameSync(tmp, big);
    fs.renameSync(tmp.replace(/\.heapsnapshot$/, '') + '.tile-source.heapsnapshot', big.replace(/\.heapsnapshot$/, '') + '.tile-source.heapsnapshot');
    fs.writeFileSync(facts, JSON.stringify({...line, file: big}) + '\n');
  }
  const source = big.replace(/\.heapsnapshot$/, '') + '.tile-source.heapsnapshot';
  const expected = JSON.parse(fs.readFileSync(facts, 'utf8'));
  log(`summary on ${path.basename(oneGb)} and ${bigName}, ${ctx.args.runs} runs each`);
  const [one, large] = await sideBySide([
    {label: 'summary-1gb', argv: [ctx.leakhunt, 'summary', oneGb, '--json', '--top', '0']},
    {label: `summary-${ctx.args.bigMb}mb`, argv: [ctx.leakhunt, 'summary', big, '--json', '--top', '0']},
  ], ctx);
  const [src] = await sideBySide([{label: 'summary-tile-source', argv: [ctx.leakhunt, 'summary', source, '--json', '--top', '0']}], {...ctx, args: {...ctx.args, runs: 1}});
  const got = JSON.parse(fs.readFileSync(large.runs[0].files.stdout, 'utf8'));
  const per = classesOf(src.runs[0].files.stdout);
  const all = classesOf(large.runs[0].files.stdout);
  let differing = 0;
  for (const [name, c] of per) {
    const d = all.get(name);
    if (!d || d.count !== copies * c.count || d.shallow_size !== copies * c.shallow_size || d.retained_size !== copies * c.retained_size) differing++;
  }
  return {
    oneGb: {file: oneGb, bytes: fs.statSync(oneGb).size, header: snapshotHeader(oneGb), ...one},
    big: {file: big, bytes: fs.statSync(big).size, header: snapshotHeader(big), ...large},
    check: {expected, totals: got.totals, classes: per.size, differing, copies},
  };
}

// Peak RSS of one process (VmHWM), read while it runs: GNU time would report the largest of
// leakhunt and the service it started.
function peakRss(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch (_) {
    return 0;
  }
}

async function runHunt(ctx) {
  const out = path.join(ctx.workDir, 'hunt-out');
  fs.rmSync(out, {recursive: true, force: true});
  const heapLimit = Math.ceil(ctx.args.heapMb * 3 + 1024);
  const argv = ['hunt', '--scenario', path.join(ROOT, 'bench/hunt-service/scenario.toml'),
    '--ready-timeout', '600', '--out', out, '--json', path.join(ctx.workDir, 'hunt.json'), '--',
    'node', `--max-old-space-size=${heapLimit}`, path.join(ROOT, 'bench/hunt-service/service.js')];
  log(`hunt on a service with ${ctx.args.heapMb} MiB of live heap`);
  const env = {...process.env, HEAP_MB: String(ctx.args.heapMb), NO_COLOR: '1'};
  const outFile = path.join(ctx.workDir, 'hunt.out');
  const errFile = path.join(ctx.workDir, 'hunt.err');
  const t0 = process.hrtime.bigint();
  const child = spawn(ctx.leakhunt, argv, {env, stdio: ['ignore', fs.openSync(outFile, 'w'), fs.openSync(errFile, 'w')]});
  let leakhuntPeak = 0;
  let servicePeak = 0;
  const poll = setInterval(() => {
    leakhuntPeak = Math.max(leakhuntPeak, peakRss(child.pid));
    // The service: the node process leakhunt started.
    for (const pid of fs.readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
      try {
        if (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(child.pid)) servicePeak = Math.max(servicePeak, peakRss(pid));
      } catch (_) { /* gone */ }
    }
  }, 200);
  const code = await new Promise(resolve => child.on('exit', c => resolve(c)));
  clearInterval(poll);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0 && code !== 1) throw new Error(`hunt failed (exit ${code}): ${fs.readFileSync(errFile, 'utf8').slice(-2000)}`);
  const report = JSON.parse(fs.readFileSync(path.join(ctx.workDir, 'hunt.json'), 'utf8'));
  const snaps = fs.readdirSync(out).filter(f => f.endsWith('.heapsnapshot')).map(f => fs.statSync(path.join(out, f)).size);
  const text = fs.readFileSync(outFile, 'utf8');
  fs.rmSync(out, {recursive: true, force: true}); // three snapshots of a 1.5 GB heap
  return {m: {wallS, peakRssBytes: leakhuntPeak, servicePeak}, report, snaps, text};
}

function render(args, info, res) {
  const lines = [];
  const p = s => lines.push(s);
  p(`# leakhunt at scale — ${info.date}`);
  p('');
  p(`Machine: ${info.cpu}, ${info.cores} cores, ${info.ramGb.toFixed(1)} GB RAM; ${info.os}; Node ${info.node}; ${info.rustc}; leakhunt ${info.leakhunt}. ` +
    `Load average at the start: ${info.loadavg}. Command: \`${process.env.BENCH_CMDLINE || 'bench/scale.js'}\`. ` +
    `Each leakhunt command ran ${args.runs} times, the commands compared taking turns; times are medians (best in brackets), ` +
    `peak RSS the largest of the runs (GNU time). *other* is the most CPU other processes used during a run, in cores.`);
  p('');
  if (res.ladders) {
    p('## Same-class collections: `leaks` against `summary`');
    p('');
    p('A collection that holds objects of its own class (`bench/gen/same-class.js`): an array of arrays, an object of objects, ' +
      'a Map of objects, a linked list appended at its tail; 3 snapshots of one process, the last holding the number of elements shown. ' +
      '`leaks` reads all three (s1 and s2 on one thread while s3 is read on another); `summary` reads s3. ' +
      '*× per 10× elements* is the growth of `leaks`\' time from the row above (linear: about 10×).');
    p('');
    p('| shape | elements | s3 size | s3 nodes | `leaks` | `summary` | leaks ÷ summary | × per 10× elements | `leaks` peak RSS | `summary` peak RSS | other | verdict |');
    p('|---|---|---|---|---|---|---|---|---|---|---|---|');
    let prev = null;
    for (const r of res.ladders) {
      const growth = prev && prev.shape === r.shape ? `${(r.leaks.wallS / prev.leaks.wallS).toFixed(1)}×` : '';
      p(`| ${r.shape} | ${int(r.n)} | ${mb(r.header.bytes)} | ${int(r.header.nodes)} | ${secs(r.leaks.wallS)} (${secs(r.leaks.bestS)}) | ` +
        `${secs(r.summary.wallS)} (${secs(r.summary.bestS)}) | **${(r.leaks.wallS / r.summary.wallS).toFixed(2)}** | ${growth} | ` +
        `${mb(r.leaks.peakRssBytes)} | ${mb(r.summary.peakRssBytes)} | ${Math.max(r.leaks.other, r.summary.other).toFixed(2)} | ${r.verdict} |`);
      prev = r;
    }
    p('');
  }
  if (res.big) {
    const {oneGb, big, check} = res.big;
    p(`## Reading ${mb(big.bytes)}: \`summary\` beside the 1 GB snapshot`);
    p('');
    p(`The large snapshot holds ${check.copies} copies of one server heap written by V8 (\`bench/gen/server-heap.js --size-mb ${args.bigMb} --tiles ${check.copies}\`, ` +
      'see `bench/gen/tile.js`): V8 itself would need ~5× the file in memory to write it.');
    p('');
    p('| snapshot | nodes | edges | `summary` | per GB | peak RSS | other |');
    p('|---|---|---|---|---|---|---|');
    for (const r of [oneGb, big]) {
      p(`| ${path.basename(r.file)} (${mb(r.bytes)}) | ${int(r.header.nodes)} | ${int(r.header.edges)} | ${secs(r.wallS)} (${secs(r.bestS)}) | ` +
        `${secs(r.wallS / (r.bytes / 1e9))} | ${mb(r.peakRssBytes)} | ${r.other.toFixed(2)} |`);
    }
    p('');
    p(`Time ratio ${(big.wallS / oneGb.wallS).toFixed(2)}× for ${(big.bytes / oneGb.bytes).toFixed(2)}× the bytes ` +
      `and ${(big.header.nodes / oneGb.header.nodes).toFixed(2)}× the nodes.`);
    p('');
    const e = check.expected;
    const t = check.totals;
    const ok = (a, b) => (a === b ? 'equal' : `**differ** (${a} vs ${b})`);
    p(`Correctness: nodes ${ok(t.nodes, e.node_count)}, edges ${ok(t.edges, e.edge_count)}, total size ${ok(t.total_size, e.total_self_size)} ` +
      `(leakhunt against the generator's own count); of ${check.classes} classes of the copied heap, ${check.differing} differ from ` +
      `${check.copies} × their count, shallow and retained size in the large snapshot.`);
    p('');
  }
  if (res.hunt) {
    const {m, report, snaps, text} = res.hunt;
    const top = report.suspects[0];
    p(`## A hunt on a service with ${int(args.heapMb)} MiB of live heap`);
    p('');
    p('`leakhunt hunt --scenario bench/hunt-service/scenario.toml -- node --max-old-space-size=… bench/hunt-service/service.js`: ' +
      'users, orders and sessions in Maps, rendered pages kept as Buffers, latency histograms; each request keeps an event record.');
    p('');
    p('| wall (start to report) | leakhunt peak RSS | service peak RSS | snapshots | heap after GC | verdict |');
    p('|---|---|---|---|---|---|');
    p(`| ${secs(m.wallS)} | ${mb(m.peakRssBytes)} | ${mb(m.servicePeak)} | ${snaps.map(mb).join(', ')} | ${report.heap_after_gc_bytes.map(mb).join(' → ')} | ` +
      `${report.verdict}${top ? `: ${top.pattern} ${top.class}, +${int(top.count_per_step)}/step` : ''} |`);
    p('');
    p('What it printed:');
    p('');
    p('```');
    p(text.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
    p('```');
    p('');
  }
  return lines.join('\n') + '\n';
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const leakhunt = process.env.LEAKHUNT_BIN || path.join(ROOT, 'target/release/leakhunt');
  const benchDir = process.env.LEAKHUNT_BENCH_DIR || '/tmp/leakhunt-bench';
  const workDir = fs.mkdtempSync(path.join(benchDir, 'scale-run-'));
  const ctx = {args, leakhunt, benchDir, workDir, quiet: {maxOther: args.maxOther, retries: args.retries}};
  const info = machineInfo(path.join(benchDir, 'peers'));
  const res = {};
  if (args.parts.includes('ladders')) res.ladders = await runLadders(ctx);
  if (args.parts.includes('big')) res.big = await runBig(ctx);
  if (args.parts.includes('hunt')) res.hunt = await runHunt(ctx);
  const md = render(args, info, res);
  process.stdout.write(md);
  fs.mkdirSync(path.dirname(args.out), {recursive: true});
  fs.writeFileSync(args.out, md);
  fs.rmSync(workDir, {recursive: true, force: true});
  log(`report written to ${args.out}`);
}

main().catch(e => {
  process.stderr.write(`scale: ${e && e.stack || e}\n`);
  process.exit(1);
});
