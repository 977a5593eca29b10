#!/usr/bin/env node
// leakhunt benchmark driver. Normally started by bench/run.sh, which builds
// leakhunt, makes sure /usr/bin/time exists and installs the npm peers first.
//
// For each snapshot size it:
//   1. generates the snapshot with bench/gen/server-heap.js if it is missing,
//   2. measures wall time and peak RSS of
//        - `cat FILE | wc -c`                     (I/O floor)
//        - `leakhunt summary FILE --json --top 0` (--runs times)
//        - DevTools' worker (bench/devtools-summary.js, heap-snapshot-toolkit)
//        - `memlab analyze object-size`
//        - `JSON.parse(fs.readFileSync(FILE, 'utf8'))` (bench/json-parse.js)
//   3. compares leakhunt's per-class numbers with DevTools' ones,
// then prints a Markdown report and writes it to --out.
//
// Settings come from the command line (see usage()) and from the environment
// set by run.sh: LEAKHUNT_BIN, LEAKHUNT_BENCH_DIR, BENCH_PEERS_DIR,
// BENCH_CMDLINE. Progress goes to stderr, the report to stdout.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {spawn, execFileSync} = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const MB = 1e6; // file sizes and throughput use decimal MB, like the generator

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

function usage(code) {
  process.stderr.write(`usage: bench/run.sh [options]
  --sizes 20,200,1000      snapshot sizes in MB (default 20,200,1000)
  --runs N                 leakhunt runs per file (default 3; peers run once)
  --skip-peers             only measure leakhunt (no memlab/DevTools/JSON.parse, no agreement check)
  --skip-peers-above MB    run peers only on files up to this size (default: no limit)
  --timeout S              kill a peer run after S seconds (default 3600)
  --max-other-load CORES   a run during which other processes used more CPU than this
                           (in cores) is repeated, up to --retries times (default 0.25)
  --retries N              (default 2; 0 = keep every run as measured)
  --out FILE               also write the report here (default bench/results/summary-<date>.md)
environment: LEAKHUNT_BENCH_DIR (snapshot cache, default /tmp/leakhunt-bench),
  PEER_NODE_OPTIONS (default --max-old-space-size=16000)
`);
  process.exit(code);
}

function parseArgs(argv) {
  const today = new Date().toISOString().slice(0, 10);
  const a = {
    sizes: [20, 200, 1000],
    runs: 3,
    skipPeers: false,
    peersMaxMb: Infinity,
    timeoutS: 3600,
    maxOther: 0.25,
    retries: 2,
    out: path.join(ROOT, 'bench', 'results', `summary-${today}.md`),
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${k}`);
      return argv[++i];
    };
    switch (k) {
      case '--sizes': a.sizes = next().split(',').map(s => Number(s.trim())); break;
      case '--runs': a.runs = Number(next()); break;
      case '--skip-peers': a.skipPeers = true; break;
      case '--skip-peers-above': a.peersMaxMb = Number(next()); break;
      case '--timeout': a.timeoutS = Number(next()); break;
      case '--max-other-load': a.maxOther = Number(next()); break;
      case '--retries': a.retries = Number(next()); break;
      case '--out': a.out = path.resolve(next()); break;
      case '-h': case '--help': usage(0); break;
      default: die(`unknown argument ${k}`);
    }
  }
  if (a.sizes.some(s => !(s > 0))) die('--sizes wants positive numbers, e.g. 20,200,1000');
  if (!(Number.isInteger(a.runs) && a.runs >= 1)) die('--runs wants an integer >= 1');
  return a;
}

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// Running and measuring one command
// ---------------------------------------------------------------------------

let currentChild = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // Children run in their own process group (so a timeout can kill the
    // whole tree); forward Ctrl-C to that group ourselves.
    if (currentChild) {
      try { process.kill(-currentChild.pid, 'SIGKILL'); } catch (_) { /* already gone */ }
    }
    process.exit(130);
  });
}

// Runs argv under `/usr/bin/time -f "%e %M"`. GNU time reports the peak RSS
// (%M, KiB) of the command; the wall time is taken here with hrtime because
// %e only has 10 ms resolution, too coarse for the small file (the overhead
// of the extra fork/exec of `time` is about a millisecond).
// stdout/stderr go to files: DevTools' JSON for 1 GB is large and memlab
// prints a lot of progress.
//
// The bench machine is a small shared VM, so each measurement also records
// how much CPU *other* processes used meanwhile: system-wide busy time from
// /proc/stat minus the command's own user+sys time (%U %S), divided by the
// wall time, in cores. Anything well above 0 means the timing is disturbed.
function systemBusyS() {
  // cpu  user nice system idle iowait irq softirq steal ... (USER_HZ ticks)
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  // Steal (the hypervisor running someone else) counts as disturbance too.
  return (user + nice + system + irq + softirq + (steal || 0)) / USER_HZ;
}
const USER_HZ = 100; // the /proc/stat tick on every Linux architecture Node runs on

function measure(label, argv, {env = process.env, timeoutS = 3600, workDir}) {
  const base = path.join(workDir, label.replace(/[^A-Za-z0-9._-]+/g, '_'));
  const files = {stdout: `${base}.out`, stderr: `${base}.err`, time: `${base}.time`};
  fs.rmSync(files.time, {force: true});
  const outFd = fs.openSync(files.stdout, 'w');
  const errFd = fs.openSync(files.stderr, 'w');
  return new Promise(resolve => {
    const busy0 = systemBusyS();
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', files.time, ...argv],
      {stdio: ['ignore', outFd, errFd], env, detached: true});
    currentChild = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch (_) { /* gone */ }
    }, timeoutS * 1000);
    child.on('exit', (code, signal) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const busyS = systemBusyS() - busy0;
      clearTimeout(timer);
      currentChild = null;
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      // GNU time writes "Command exited with non-zero status N" or
      // "Command terminated by signal N" before the format line.
      const timeText = fs.existsSync(files.time) ? fs.readFileSync(files.time, 'utf8') : '';
      const m = timeText.match(/^([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/m);
      const cpuS = m ? Number(m[3]) + Number(m[4]) : null;
      const sig = timeText.match(/terminated by signal (\d+)/);
      const st = timeText.match(/non-zero status (\d+)/);
      resolve({
        label,
        wallS,
        timeElapsedS: m ? Number(m[1]) : null,
        peakRssBytes: m ? Number(m[2]) * 1024 : null,
        cpuS,
        // (node's own bookkeeping while waiting is negligible)
        otherCores: cpuS == null ? null : Math.max(0, (busyS - cpuS) / wallS),
        exitCode: st ? Number(st[1]) : (code === 0 && !sig ? 0 : code),
        signal: sig ? Number(sig[1]) : signal,
        timedOut,
        timeoutS,
        files,
      });
    });
  });
}

// Cores used by other processes over a short sample while we do nothing.
async function otherLoadNow(sampleS = 1) {
  const b0 = systemBusyS();
  await new Promise(r => setTimeout(r, sampleS * 1000));
  return (systemBusyS() - b0) / sampleS;
}

// measure(), but on a shared machine: first wait (up to 2 min) until other
// processes are quiet, and repeat a run that was disturbed anyway. A run is
// "disturbed" when others used more than maxOther cores on average and more
// than 0.05 CPU-seconds in total (/proc/stat has 10 ms ticks, which alone
// can look like 0.2 cores on a 0.1 s run). The last attempt is kept as is.
async function measureQuiet(label, argv, opts, {maxOther, retries}) {
  for (let attempt = 0; ; attempt++) {
    if (retries > 0) {
      const t0 = Date.now();
      let load;
      while ((load = await otherLoadNow()) > maxOther && Date.now() - t0 < 120e3) { /* wait */ }
      if (Date.now() - t0 > 1500) log(`    waited ${Math.round((Date.now() - t0) / 1000)} s for other processes (load now ${load.toFixed(2)} cores)`);
    }
    const r = await measure(label, argv, opts);
    r.attempts = attempt + 1;
    const otherS = r.otherCores == null ? 0 : r.otherCores * r.wallS;
    const disturbed = r.otherCores != null && r.otherCores > maxOther && otherS > 0.05;
    if (!disturbed || attempt >= retries || r.exitCode !== 0) return r;
    log(`    ${label}: ${secs(r.wallS)} disturbed (other processes used ${r.otherCores.toFixed(2)} cores), repeating`);
  }
}

// A short, human-readable reason why a peer run failed, from its stderr.
function failureReason(r) {
  if (r.timedOut) return `timeout: killed after ${r.timeoutS} s`;
  const err = fs.readFileSync(r.files.stderr, 'utf8');
  const patterns = [
    [/Cannot create a string longer than (0x[0-9a-f]+) characters/i, m => `Cannot create a string longer than ${m[1]} characters`],
    [/Invalid string length/, () => 'RangeError: Invalid string length'],
    [/JavaScript heap out of memory/, () => 'out of memory: JavaScript heap out of memory'],
    [/invalid (?:table |array )?size error/i, () => 'V8 fatal: invalid size error (a JS array/table grew past its limit)'],
    [/Array buffer allocation failed/, () => 'RangeError: Array buffer allocation failed'],
  ];
  for (const [re, f] of patterns) {
    const m = err.match(re);
    if (m) return f(m);
  }
  if (r.signal) {
    const name = typeof r.signal === 'number'
      ? (Object.entries(os.constants.signals).find(([, n]) => n === r.signal) || [`signal ${r.signal}`])[0]
      : r.signal;
    return `killed by ${name}${name === 'SIGKILL' ? ' (OOM killer?)' : ''}`;
  }
  const lines = err.split('\n').map(s => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim())
    .filter(s => s && !/^npm warn/i.test(s));
  const errLine = lines.find(s => /error/i.test(s)) || lines[lines.length - 1] || '';
  return `exit ${r.exitCode}${errLine ? `: ${errLine.slice(0, 120)}` : ''}`;
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

// Same names as the generated copies already in use: server-20mb,
// server-200mb, server-1gb.
function snapshotName(sizeMb) {
  if (sizeMb >= 1000 && sizeMb % 1000 === 0) return `server-${sizeMb / 1000}gb.heapsnapshot`;
  return `server-${sizeMb}mb.heapsnapshot`;
}

async function ensureSnapshot(benchDir, sizeMb) {
  const file = path.join(benchDir, snapshotName(sizeMb));
  if (fs.existsSync(file)) return file;
  // Write under a temporary name and rename, so an interrupted run never
  // leaves a truncated file that later runs would reuse.
  const tmp = path.join(benchDir, `.partial-${process.pid}-${path.basename(file)}`);
  log(`generating ${file} (this takes about ${Math.max(2, Math.round(sizeMb * 0.08))} s and ~${(sizeMb * 5.4 / 1000).toFixed(1)} GB RAM)`);
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bench/gen/server-heap.js'), '--size-mb', String(sizeMb), '--out', tmp],
      {stdio: ['ignore', 'ignore', 'inherit']});
    child.on('exit', code => code === 0 ? resolve() : reject(new Error(`generator exited with ${code}`)));
  });
  fs.renameSync(tmp, file);
  return file;
}

// node/edge counts from the snapshot header (first 4 KB), as bench/gen/snapinfo.js.
function snapshotHeader(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const head = buf.toString('utf8', 0, n);
  const num = k => Number((head.match(new RegExp(`"${k}":(\\d+)`)) || [])[1]);
  return {bytes: fs.statSync(file).size, nodes: num('node_count'), edges: num('edge_count')};
}

// ---------------------------------------------------------------------------
// Machine description
// ---------------------------------------------------------------------------

function sh(cmd, args) {
  try { return execFileSync(cmd, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim(); } catch (_) { return '?'; }
}

function machineInfo(peersDir) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const field = k => (cpuinfo.match(new RegExp(`^${k}\\s*:\\s*(.+)$`, 'm')) || [])[1];
  // Cloud VMs often show a bare "AMD EPYC"; family/model/stepping pin it down.
  let model = field('model name') || os.cpus()[0]?.model || '?';
  if (field('cpu family')) model += ` (family ${field('cpu family')}, model ${field('model')}, stepping ${field('stepping')})`;
  if (/\bhypervisor\b/.test(field('flags') || '')) model += ', virtual machine';
  const memTotalKb = Number((fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)/m) || [])[1]);
  let osName = os.type();
  try { osName = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?/m)[1]; } catch (_) { /* keep os.type() */ }
  const gitRev = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']) !== '';
  const pkgVersion = name => {
    try { return JSON.parse(fs.readFileSync(path.join(peersDir, 'node_modules', name, 'package.json'), 'utf8')).version; } catch (_) { return null; }
  };
  return {
    date: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
    cpu: model,
    cores: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    ramGb: memTotalKb * 1024 / 1e9,
    os: `${osName}, Linux ${os.release()}`,
    node: process.version,
    rustc: sh('rustc', ['--version']),
    leakhunt: `${gitRev}${dirty ? ' (with uncommitted changes)' : ''}`,
    memlab: pkgVersion('@memlab/cli'),
    hst: pkgVersion('heap-snapshot-toolkit'),
    // Other work on a 2-core VM shows up directly in the timings.
    loadavg: os.loadavg().map(x => x.toFixed(2)).join(', '),
  };
}

// ---------------------------------------------------------------------------
// Agreement with DevTools
// ---------------------------------------------------------------------------

// DevTools class key/name -> the leakhunt class name it corresponds to
// (shared with devtools-summary.js, which uses it for the merged-key check):
//   Function            -> (closure)      (DevTools' row for all closures)
//   "81,2,23,Foo"       -> Foo            (split by constructor location; the name is aggregate.name)
//   {a, b} / Object     -> Object         (interface inference on plain objects)
//   Detached X          -> X              (DevTools renames detached native nodes)
const {leakhuntNameFor} = require('./devtools-summary.js');

function relDiffPct(lh, dt) {
  if (lh === dt) return 0;
  if (!dt) return Infinity;
  return (lh - dt) / dt * 100;
}

// Groups DevTools' classes by leakhunt name and pairs them with leakhunt's rows.
function compareClasses(lh, dt) {
  const groups = new Map();
  for (const c of dt.classes) {
    const name = leakhuntNameFor(c.name);
    let g = groups.get(name);
    if (!g) groups.set(name, g = {name, keys: [], count: 0, self: 0, retained: 0});
    g.keys.push(c.key);
    g.count += c.count;
    g.self += c.self;
    // For merged groups this sum is not a meaningful retained size (nested
    // instances of another key get counted again); it is only used to rank.
    g.retained += c.retained;
  }
  const lhByName = new Map(lh.classes.map(c => [c.class, c]));
  const rows = [];
  for (const g of groups.values()) {
    const l = lhByName.get(g.name);
    // 1:1 means exactly one DevTools key maps to this leakhunt class; then
    // the instance sets are the same and all three numbers must agree.
    const merged = g.keys.length > 1;
    const row = {
      name: g.name, keys: g.keys, merged, missing: !l,
      count: [l ? l.count : 0, g.count],
      self: [l ? l.shallow_size : 0, g.self],
      retained: [l ? l.retained_size : 0, g.retained],
    };
    row.dCount = relDiffPct(...row.count);
    row.dSelf = relDiffPct(...row.self);
    row.dRetained = relDiffPct(...row.retained);
    const within = d => Math.abs(d) <= 0.5;
    row.countSelfExact = row.count[0] === row.count[1] && row.self[0] === row.self[1];
    // For merged classes, DevTools' per-key retained sizes cannot be compared,
    // but devtools-summary.js also walks DevTools' own dominator tree with the
    // keys merged (mergedRetained): that number must match leakhunt's.
    row.mergedRetained = dt.mergedRetained ? dt.mergedRetained[g.name] ?? 0 : null;
    row.dMerged = row.mergedRetained == null ? null : relDiffPct(row.retained[0], row.mergedRetained);
    row.pass = !row.missing && (merged
      ? row.countSelfExact && (row.dMerged == null || within(row.dMerged))
      : within(row.dCount) && within(row.dSelf) && within(row.dRetained));
    rows.push(row);
  }
  // Classes only leakhunt has (DevTools would have dropped nothing it counts).
  const extra = lh.classes.filter(c => !groups.has(c.class));
  rows.sort((x, y) => y.retained[1] - x.retained[1] || (x.name < y.name ? -1 : 1));
  return {rows, extra};
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

const int = n => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
const secs = s => (s == null ? '–' : s < 10 ? s.toFixed(3) : s < 100 ? s.toFixed(2) : s.toFixed(1)) + ' s';
const mb = b => (b == null ? '–' : b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`);
const pct = d => (d === 0 ? '0' : !Number.isFinite(d) ? '∞' : `${d > 0 ? '+' : ''}${Math.abs(d) < 0.01 ? d.toExponential(1) : d.toFixed(2)}`);
const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const escapeMd = s => s.replace(/\|/g, '\\|');

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const benchDir = path.resolve(process.env.LEAKHUNT_BENCH_DIR || '/tmp/leakhunt-bench');
  const peersDir = path.resolve(process.env.BENCH_PEERS_DIR || path.join(benchDir, 'peers'));
  const leakhunt = process.env.LEAKHUNT_BIN || path.join(ROOT, 'target/release/leakhunt');
  const workDir = path.join(benchDir, 'work');
  fs.mkdirSync(workDir, {recursive: true});
  if (!fs.existsSync(leakhunt)) die(`no leakhunt binary at ${leakhunt} (run bench/run.sh, it builds it)`);
  if (!fs.existsSync('/usr/bin/time')) die('/usr/bin/time is missing (apt-get install -y time)');
  const memlabJs = path.join(peersDir, 'node_modules/@memlab/cli/bin/memlab.js');
  if (!args.skipPeers && !fs.existsSync(memlabJs)) die(`peers not installed in ${peersDir} (run bench/run.sh, or pass --skip-peers)`);

  // Peers are Node programs; the big files need far more than the default
  // ~4 GB heap limit (DevTools' worker needs ~4 GB on the 1 GB file).
  const peerNodeOptions = process.env.PEER_NODE_OPTIONS || '--max-old-space-size=16000';
  const peerEnv = {...process.env, NODE_OPTIONS: peerNodeOptions, HST_DIR: peersDir};

  const machine = machineInfo(peersDir);
  const results = [];
  for (const sizeMb of args.sizes) {
    const file = await ensureSnapshot(benchDir, sizeMb);
    const name = path.basename(file, '.heapsnapshot');
    const hdr = snapshotHeader(file);
    const res = {name, file, ...hdr, tools: {}, leakhuntJson: null, devtoolsJson: null, timings: null};
    results.push(res);
    log(`${name}: ${(hdr.bytes / MB).toFixed(1)} MB, ${int(hdr.nodes)} nodes, ${int(hdr.edges)} edges`);

    // I/O floor. The first read also pulls the file into the page cache, so
    // every tool below reads from memory (reported: the second read).
    const cat = ['sh', '-c', 'cat "$1" | wc -c', 'sh', file];
    await measure(`${name}-cat-warm`, cat, {workDir});
    const quiet = {maxOther: args.maxOther, retries: args.retries};
    const catRun = await measureQuiet(`${name}-cat`, cat, {workDir}, quiet);
    res.tools.cat = {runs: [catRun], ok: catRun.exitCode === 0};
    log(`  cat | wc -c: ${secs(catRun.wallS)}`);

    // leakhunt, --runs times. LEAKHUNT_TIMINGS only adds a few stderr lines.
    const lhRuns = [];
    for (let i = 0; i < args.runs; i++) {
      const r = await measureQuiet(`${name}-leakhunt-${i + 1}`, [leakhunt, 'summary', file, '--json', '--top', '0'],
        {env: {...process.env, LEAKHUNT_TIMINGS: '1'}, timeoutS: args.timeoutS, workDir}, quiet);
      lhRuns.push(r);
      log(`  leakhunt run ${i + 1}/${args.runs}: ${secs(r.wallS)}, ${mb(r.peakRssBytes)}${r.exitCode ? ` FAILED (${failureReason(r)})` : ''}`);
    }
    const okRuns = lhRuns.filter(r => r.exitCode === 0);
    res.tools.leakhunt = {runs: lhRuns, ok: okRuns.length === lhRuns.length, reason: okRuns.length === lhRuns.length ? null : failureReason(lhRuns.find(r => r.exitCode !== 0))};
    if (okRuns.length) {
      // Stage timings from the run with the median wall time.
      const med = [...okRuns].sort((a, b) => a.wallS - b.wallS)[Math.floor((okRuns.length - 1) / 2)];
      res.leakhuntJson = JSON.parse(fs.readFileSync(med.files.stdout, 'utf8'));
      res.timings = [];
      for (const line of fs.readFileSync(med.files.stderr, 'utf8').split('\n')) {
        const m = line.match(/^\[timing\]\s+(.+?)\s+([\d.]+)s\s+\(at ([\d.]+)s\)/);
        if (m) res.timings.push({stage: m[1], s: Number(m[2]), at: Number(m[3])});
      }
    }

    const runPeers = !args.skipPeers && hdr.bytes / MB <= args.peersMaxMb;
    if (!runPeers) continue;

    const peers = [
      ['devtools', [process.execPath, path.join(ROOT, 'bench/devtools-summary.js'), file]],
      // memlab's bin script has the shebang `node --expose-gc
      // --max-old-space-size=4096`, and command-line flags override
      // NODE_OPTIONS; start it with the same flags but our heap limit.
      ['memlab', [process.execPath, '--expose-gc', ...peerNodeOptions.split(/\s+/).filter(Boolean), memlabJs,
        'analyze', 'object-size', '--snapshot', file, '--work-dir', path.join(workDir, 'memlab')]],
      ['json-parse', [process.execPath, path.join(ROOT, 'bench/json-parse.js'), file]],
    ];
    fs.mkdirSync(path.join(workDir, 'memlab'), {recursive: true});
    for (const [tool, argv] of peers) {
      log(`  ${tool} ...`);
      const r = await measureQuiet(`${name}-${tool}`, argv, {env: peerEnv, timeoutS: args.timeoutS, workDir}, quiet);
      let ok = r.exitCode === 0 && !r.signal && !r.timedOut;
      let reason = ok ? null : failureReason(r);
      if (ok && tool === 'devtools') {
        try {
          res.devtoolsJson = JSON.parse(fs.readFileSync(r.files.stdout, 'utf8'));
          // The merged-key check is the bench's own addition, not DevTools
          // work: take its time (measured inside the process) off the wall.
          r.rawWallS = r.wallS;
          r.extraS = (res.devtoolsJson.perf.mergedRetainedMs || 0) / 1000;
          r.wallS -= r.extraS;
        } catch (e) {
          ok = false;
          reason = `bad JSON output: ${e.message}`;
        }
      }
      if (ok && tool === 'memlab' && !/^· @\d+/m.test(fs.readFileSync(r.files.stdout, 'utf8'))) {
        // Count a run without the object list as failed even if memlab exited 0.
        ok = false;
        reason = 'no object list in output';
      }
      res.tools[tool] = {runs: [r], ok, reason};
      log(`  ${tool}: ${secs(r.wallS)}, ${mb(r.peakRssBytes)}${ok ? '' : ` FAILED (${reason})`}`);
    }
  }

  const report = buildReport(args, machine, results);
  process.stdout.write(report);
  fs.mkdirSync(path.dirname(args.out), {recursive: true});
  fs.writeFileSync(args.out, report);
  log(`report written to ${path.relative(process.cwd(), args.out) || args.out}`);
  const bad = results.flatMap(r => r.agreement ? r.agreement.failed1to1 : []);
  if (bad.length) log(`WARNING: ${bad.length} 1:1 class(es) differ from DevTools by more than 0.5% — see the report`);
  const badM = results.flatMap(r => r.agreement ? r.agreement.failedMerged : []);
  if (badM.length) log(`WARNING: ${badM.length} merged class(es) disagree with DevTools — see the report`);
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

const TOOL_LABEL = {
  cat: '`cat \\| wc -c` (I/O floor)',
  leakhunt: '**leakhunt** summary',
  devtools: 'DevTools worker (heap-snapshot-toolkit)',
  memlab: 'memlab analyze object-size',
  'json-parse': 'Node `JSON.parse` of the file',
};

function buildReport(args, m, results) {
  const L = [];
  const p = s => L.push(s);
  p(`# leakhunt benchmark, ${m.date.slice(0, 10)}`);
  p('');
  p(`- Machine: ${m.cpu}; ${m.cores} cores; ${m.ramGb.toFixed(1)} GB (${(m.ramGb * 1e9 / 2 ** 30).toFixed(1)} GiB) RAM`);
  p(`- OS: ${m.os}`);
  p(`- Node ${m.node}; ${m.rustc}`);
  p(`- leakhunt commit ${m.leakhunt}, release build`);
  if (!args.skipPeers) p(`- Peers: @memlab/cli ${m.memlab}, heap-snapshot-toolkit ${m.hst} (DevTools heap snapshot worker); peers run with \`${process.env.PEER_NODE_OPTIONS || '--max-old-space-size=16000'}\` ` +
    '(in NODE_OPTIONS; for memlab as node flags, replacing the `--max-old-space-size=4096` of its bin script)');
  p(`- Date: ${m.date}; load average at start ${m.loadavg} (1, 5, 15 min)`);
  p(`- Command: \`${process.env.BENCH_CMDLINE || `node bench/run.js ${process.argv.slice(2).join(' ')}`}\``);
  p('');
  p(`leakhunt ran ${args.runs} time(s) per file: "wall" is the median, "best" the fastest run, peak RSS the largest of the runs. ` +
    'Every other tool ran once. Files were in the page cache (read once before measuring). ' +
    'MB/s = file size (10^6 bytes) / wall time. Peak RSS is /usr/bin/time\'s %M. CPU = user + sys time of the tool (more than wall = parallel). ' +
    '"other load" = CPU used by other processes (and VM steal) during the run, in cores, the worst of the runs: on this 2-core machine, ' +
    'values above ~0.2 mean the timing was disturbed ("–" for runs under 0.5 s, too short for the 10 ms /proc/stat ticks). ' +
    (args.retries > 0 ? `Before each run the bench waits until other processes are quiet, and a run during which they used more than ${args.maxOther} cores ` +
      `is repeated (up to ${args.retries} times; "(n re-runs)" after the tool name counts them). ` : '') +
    'The DevTools row excludes the time of the bench\'s extra merged-key walk (see Agreement), measured inside the process' +
    `${results.some(r => r.tools.devtools?.runs[0].extraS) ? ` (${results.filter(r => r.tools.devtools?.runs[0].extraS).map(r => `${r.name}: ${secs(r.tools.devtools.runs[0].extraS)}`).join(', ')})` : ''}.`);
  p('');

  p('## Speed and memory');
  p('');
  p('| file | size | nodes | edges | tool | wall | best | MB/s | peak RSS | CPU | other load | wall vs leakhunt |');
  p('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const lhMed = r.tools.leakhunt && r.tools.leakhunt.ok ? median(r.tools.leakhunt.runs.map(x => x.wallS)) : null;
    let firstRow = true;
    for (const tool of ['cat', 'leakhunt', 'devtools', 'memlab', 'json-parse']) {
      const t = r.tools[tool];
      if (!t) continue;
      // File columns only on the first row of each file, to keep it readable.
      const tries = t.runs.reduce((n, x) => n + (x.attempts || 1), 0) - t.runs.length;
      const first = firstRow ? `| ${r.name} | ${(r.bytes / MB).toFixed(1)} MB | ${int(r.nodes)} | ${int(r.edges)} ` : '| | | | ';
      firstRow = false;
      const walls = t.runs.map(x => x.wallS);
      const rss = Math.max(...t.runs.map(x => x.peakRssBytes || 0)) || null;
      // CPU time of the median run; other load: the worst of the runs.
      const medRun = [...t.runs].sort((a, b) => a.wallS - b.wallS)[Math.floor((t.runs.length - 1) / 2)];
      const cpu = medRun.cpuS == null ? '–' : secs(medRun.cpuS);
      // Below 0.5 s the 10 ms /proc/stat ticks make the ratio meaningless.
      const longRuns = t.runs.filter(x => x.otherCores != null && x.wallS >= 0.5);
      const other = longRuns.length ? Math.max(...longRuns.map(x => x.otherCores)).toFixed(2) : '–';
      if (!t.ok) {
        p(`${first}| ${TOOL_LABEL[tool]}${tries ? ` (${tries} re-runs)` : ''} | failed (${escapeMd(t.reason)}) after ${secs(Math.max(...walls))} | | | ${mb(rss)} | ${cpu} | ${other} | |`);
        continue;
      }
      const w = median(walls);
      const best = Math.min(...walls);
      const ratio = lhMed && tool !== 'leakhunt' ? `${(w / lhMed).toFixed(w / lhMed < 10 ? 1 : 0)}×` : '';
      p(`${first}| ${TOOL_LABEL[tool]}${tries ? ` (${tries} re-run${tries > 1 ? 's' : ''})` : ''} | ${secs(w)} | ${t.runs.length > 1 ? secs(best) : ''} | ${Math.round(r.bytes / MB / w).toLocaleString('en-US')} | ` +
        `${tool === 'cat' ? '' : mb(rss)} | ${cpu} | ${other} | ${ratio} |`);
    }
  }
  p('');

  // Per-stage timings, one column per file (stages in the order leakhunt prints them).
  const withTimings = results.filter(r => r.timings && r.timings.length);
  if (withTimings.length) {
    p('### leakhunt stage timings (median run, LEAKHUNT_TIMINGS=1)');
    p('');
    p('Stages marked ‖ run in parallel with the ones before them, so the column does not add up to the wall time; "end" is when the last stage finished.');
    p('');
    const stages = [];
    for (const r of withTimings) for (const t of r.timings) if (!stages.includes(t.stage)) stages.push(t.stage);
    p(`| stage | ${withTimings.map(r => r.name).join(' | ')} |`);
    p(`|---|${withTimings.map(() => '---:').join('|')}|`);
    for (const st of stages) {
      p(`| ${escapeMd(st)} | ${withTimings.map(r => { const t = r.timings.find(x => x.stage === st); return t ? secs(t.s) : ''; }).join(' | ')} |`);
    }
    p(`| end | ${withTimings.map(r => secs(Math.max(...r.timings.map(t => t.at)))).join(' | ')} |`);
    p('');
  }

  if (!args.skipPeers) {
    p('## Agreement with DevTools');
    p('');
    p('leakhunt `summary --json --top 0` against DevTools\' Summary view ("All objects") computed by its own worker code. ' +
      'DevTools keys are mapped to leakhunt names first: `Function` → `(closure)`; location-split keys (`script,line,col,Name`) → `Name`; ' +
      'interface classes `{a, b}` and `Object` → `Object`; `Detached X` → `X`. Rows are the 50 largest classes by DevTools retained size after that mapping. ' +
      'A 1:1 class (exactly one DevTools key) PASSes when count, shallow size and retained size are all within 0.5%. ' +
      'A merged class (several DevTools keys, "keys differ") PASSes when count and shallow size add up exactly and leakhunt\'s retained size is within 0.5% of ' +
      'the same outermost-instance sum computed on DevTools\' own dominator tree with the keys merged (bench/devtools-summary.js, `mergedRetained`). ' +
      'Δ% = (leakhunt − DevTools) / DevTools.');
    p('');
    for (const r of results) agreementSection(r, p);
  }
  return L.join('\n') + '\n';
}

function agreementSection(r, p) {
  p(`### ${r.name}`);
  p('');
  const lh = r.leakhuntJson;
  const dt = r.devtoolsJson;
  if (!lh || !dt) {
    p(`Not compared: ${!lh ? 'leakhunt' : 'the DevTools worker'} ${r.tools.devtools ? `failed (${(!lh ? r.tools.leakhunt : r.tools.devtools).reason})` : 'was skipped'}.`);
    p('');
    return;
  }
  const {rows, extra} = compareClasses(lh, dt);
  const totalOk = lh.totals.total_size === dt.totalSize;
  p(`- Total size: leakhunt ${int(lh.totals.total_size)} vs DevTools ${int(dt.totalSize)}: ${totalOk ? '**exact**' : `**DIFFERS** (${pct(relDiffPct(lh.totals.total_size, dt.totalSize))}%)`}`);
  p(`- Nodes / edges: leakhunt ${int(lh.totals.nodes)} / ${int(lh.totals.edges)} vs DevTools ${int(dt.nodeCount)} / ${int(dt.edgeCount)}${lh.totals.nodes === dt.nodeCount && lh.totals.edges === dt.edgeCount ? ' (same)' : ' (DIFFER)'}`);
  const lhCount = lh.classes.reduce((s, c) => s + c.count, 0);
  const lhSelf = lh.classes.reduce((s, c) => s + c.shallow_size, 0);
  p(`- Summary footer (Σ count, Σ shallow over all classes): leakhunt ${int(lhCount)} / ${int(lhSelf)} vs DevTools ${int(dt.summaryFooter.count)} / ${int(dt.summaryFooter.size)}${lhCount === dt.summaryFooter.count && lhSelf === dt.summaryFooter.size ? ' (exact)' : ' (DIFFER)'}`);
  // Every class, not only the top 50: a cheap completeness check.
  const all1 = rows.filter(x => !x.merged);
  const allM = rows.filter(x => x.merged);
  const exact = x => x.countSelfExact && x.retained[0] === x.retained[1];
  p(`- All ${rows.length} classes after mapping (${dt.classes.length} DevTools keys): ${all1.filter(x => x.pass).length}/${all1.length} 1:1 classes within 0.5% ` +
    `(${all1.filter(exact).length} of them exactly equal); ` +
    `${allM.filter(x => x.pass).length}/${allM.length} merged classes with exact count and shallow size and retained size within 0.5% of DevTools' tree with keys merged ` +
    `(${allM.filter(x => x.countSelfExact && x.dMerged === 0).length} exactly equal; ${allM.map(x => `\`${escapeMd(x.name)}\` ${x.keys.length} keys`).join(', ')})` +
    `${extra.length ? `; only in leakhunt: ${extra.map(c => `\`${c.class}\``).join(', ')}` : ''}`);
  p('');

  const top = rows.slice(0, 50);
  const oneToOne = top.filter(x => !x.merged);
  const merged = top.filter(x => x.merged);
  const cells = x => `${int(x.count[0])} | ${int(x.count[1])} | ${pct(x.dCount)} | ${int(x.self[0])} | ${int(x.self[1])} | ${pct(x.dSelf)} | ${int(x.retained[0])} | ${int(x.retained[1])} | ${pct(x.dRetained)}`;
  const head = '| # | class | count lh | count DT | Δ% | shallow lh | shallow DT | Δ% | retained lh | retained DT | Δ% | result |';
  const sep = '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  p(`#### 1:1 classes (${oneToOne.length} of the top ${top.length})`);
  p('');
  p(head);
  p(sep);
  for (const x of oneToOne) {
    p(`| ${rows.indexOf(x) + 1} | \`${escapeMd(x.name)}\`${x.keys[0] !== ',' + x.name ? ` (DT \`${escapeMd(x.keys[0])}\`)` : ''} | ${cells(x)} | ${x.pass ? 'PASS' : x.missing ? '**FAIL** (missing in leakhunt)' : '**FAIL**'} |`);
  }
  p('');
  if (merged.length) {
    p(`#### Keys differ (${merged.length} of the top ${top.length}): merged DevTools keys`);
    p('');
    p('DevTools splits these names into several keys (plain objects into `{…}` interface classes, constructors by source location, `Detached ` native nodes). ' +
      'Count and shallow size are per-node sums, so they must add up exactly. Retained size legitimately differs: DevTools counts the outermost instances ' +
      '*per key*, so an instance nested in the dominator subtree of an instance with a different key (e.g. a `{b}` object inside an `{a}` object) is counted ' +
      'again, while leakhunt counts the outermost instances of the whole merged class. "retained DT Σkeys" is the plain sum of the per-key Summary values ' +
      '(not a meaningful size, shown for reference); "retained DT merged" is DevTools\' dominator tree walked with the keys merged, which is what leakhunt computes.');
    p('');
    p('| # | class | count lh | count DT | Δ% | shallow lh | shallow DT | Δ% | retained lh | retained DT Σkeys | retained DT merged | Δ% vs merged | DT keys | result |');
    p('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const x of merged) {
      const sample = x.keys.slice(0, 3).map(k => `\`${escapeMd(k.length > 40 ? k.slice(0, 40) + '…' : k)}\``).join(', ');
      p(`| ${rows.indexOf(x) + 1} | \`${escapeMd(x.name)}\` | ${int(x.count[0])} | ${int(x.count[1])} | ${pct(x.dCount)} | ${int(x.self[0])} | ${int(x.self[1])} | ${pct(x.dSelf)} | ` +
        `${int(x.retained[0])} | ${int(x.retained[1])} | ${int(x.mergedRetained)} | ${x.dMerged == null ? '–' : pct(x.dMerged)} | ` +
        `${x.keys.length}: ${sample}${x.keys.length > 3 ? ', …' : ''} | ${x.pass ? 'PASS' : '**FAIL**'} |`);
    }
    p('');
  }

  // Anything that is not explained by key merging is reported as a finding.
  const failed = rows.filter(x => !x.pass);
  r.agreement = {failed1to1: failed.filter(x => !x.merged), failedMerged: failed.filter(x => x.merged)};
  if (failed.length) {
    p('#### Differences');
    p('');
    for (const x of failed.slice(0, 30)) {
      p(`- \`${escapeMd(x.name)}\`${x.merged ? ` (merged from ${x.keys.length} keys)` : ` (1:1, DT key \`${escapeMd(x.keys[0])}\`)`}: ` +
        `count ${int(x.count[0])} vs ${int(x.count[1])}, shallow ${int(x.self[0])} vs ${int(x.self[1])}, ` +
        `retained ${int(x.retained[0])} vs ${x.merged ? `${int(x.mergedRetained)} (DevTools tree, keys merged)` : int(x.retained[1])}` +
        `${x.missing ? ' — missing in leakhunt' : ''}`);
    }
    if (failed.length > 30) p(`- … and ${failed.length - 30} more`);
    p('');
  }
  const pass1 = oneToOne.filter(x => x.pass).length;
  const passM = merged.filter(x => x.pass).length;
  p(`**${r.name}: ${pass1 + passM} of the top ${top.length} classes agree — ${pass1}/${oneToOne.length} 1:1 classes within 0.5% on count, shallow and retained size; ` +
    `${passM}/${merged.length} merged classes with exact count and shallow size and retained size within 0.5% of DevTools' tree with keys merged. ` +
    `Total size ${totalOk ? 'exact' : 'DIFFERS'}.**`);
  p('');
}

if (require.main === module) {
  main().catch(e => {
    process.stderr.write(`bench: ${e && e.stack || e}\n`);
    process.exit(1);
  });
}
module.exports = {compareClasses, leakhuntNameFor};
