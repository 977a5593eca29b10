#!/usr/bin/env node
// leakhunt benchmark driver. Normally started by bench/run.sh, which builds
// leakhunt, makes sure /usr/bin/time exists and installs the npm peers first.
//
// It has three sections (--sections, default all):
//
// summary: for each snapshot size it
//   1. generates the snapshot with bench/gen/server-heap.js if it is missing,
//   2. measures wall time and peak RSS of
//        - `cat FILE | wc -c`                     (I/O floor)
//        - `leakhunt summary FILE --json --top 0` (--runs times)
//        - DevTools' worker (bench/devtools-summary.js, heap-snapshot-toolkit)
//        - `memlab analyze object-size`
//        - `JSON.parse(fs.readFileSync(FILE, 'utf8'))` (bench/json-parse.js)
//   3. compares leakhunt's per-class numbers with DevTools' ones.
// leaks: on a leak ladder (s1..sN from one process, bench/gen/server-heap.js
//   --ladder) it measures `leakhunt leaks s1 .. sN --json` (--runs times) and
//   `memlab find-leaks`, and checks what each reports against the leaks the
//   generator planted.
// load: against bench's trivial HTTP server (crates/load/tests/fixtures/
//   trivial-server.js) it measures the requests/s of leakhunt's load runner
//   (crates/load/examples/throughput.rs) and of autocannon, --runs times each.
// Then it prints a Markdown report and writes it to --out.
//
// Settings come from the command line (see usage()) and from the environment
// set by run.sh: LEAKHUNT_BIN, LEAKHUNT_LOAD_BIN, LEAKHUNT_BENCH_DIR,
// BENCH_PEERS_DIR, BENCH_CMDLINE. Progress goes to stderr, the report to stdout.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {spawn, execFileSync} = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const MB = 1e6; // file sizes and throughput use decimal MB, like the generator
const SECTIONS = ['summary', 'leaks', 'load'];

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

function usage(code) {
  process.stderr.write(`usage: bench/run.sh [options]
  --sections LIST          which sections to run, comma-separated (default summary,leaks,load):
                             summary  leakhunt summary vs DevTools' worker, memlab, JSON.parse
                             leaks    leakhunt leaks vs memlab find-leaks on a snapshot ladder
                             load     leakhunt's load runner vs autocannon, requests/s
                             scale    leakhunt at scale (run on its own: bench/scale.js --help);
                             fuzz     the reader and every analysis fuzzed for FUZZ_SECONDS
                                      (default 300; on its own; bench/fuzz.sh)
  --sizes 20,200,1000      summary: snapshot sizes in MB (default 20,200,1000)
  --ladder 55,103,144      leaks: ladder snapshot sizes in MB, at least 3 (default 55,103,144)
  --concurrency 4,1        load: concurrency levels (default 4,1)
  --load-seconds S         load: length of each measured run (default 10)
  --load-requests N        load: requests per leakhunt-load run (default: about --load-seconds
                           worth, from the warm-up's rate)
  --runs N                 runs of leakhunt per file/ladder and of each load tool (default 3;
                           memlab, DevTools and JSON.parse run once)
  --skip-peers             only measure leakhunt (no memlab/DevTools/JSON.parse/autocannon,
                           no agreement check)
  --skip-peers-above MB    summary: run peers only on files up to this size (default: no limit)
  --timeout S              kill a run after S seconds (default 3600)
  --max-other-load CORES   a run during which other processes used more CPU than this
                           (in cores) is repeated, up to --retries times (default 0.25)
  --retries N              (default 2; 0 = keep every run as measured)
  --out FILE               also write the report here (default bench/results/<sections>-<date>.md,
                           e.g. summary-2026-11-25.md or leaks-load-2026-11-25.md)
environment: LEAKHUNT_BENCH_DIR (snapshot cache, default /tmp/leakhunt-bench),
  PEER_NODE_OPTIONS (default --max-old-space-size=16000)
`);
  process.exit(code);
}

// A list of numbers such as "4,1" or "55,103,144".
const numberList = s => s.split(',').map(x => Number(x.trim()));

function parseArgs(argv) {
  const today = new Date().toISOString().slice(0, 10);
  const a = {
    sections: [...SECTIONS],
    sizes: [20, 200, 1000],
    ladder: [55, 103, 144],
    concurrency: [4, 1],
    loadSeconds: 10,
    loadRequests: null,
    runs: 3,
    skipPeers: false,
    peersMaxMb: Infinity,
    timeoutS: 3600,
    maxOther: 0.25,
    retries: 2,
    out: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${k}`);
      return argv[++i];
    };
    switch (k) {
      case '--sections': a.sections = next().split(',').map(s => s.trim()).filter(Boolean); break;
      case '--sizes': a.sizes = numberList(next()); break;
      case '--ladder': a.ladder = numberList(next()); break;
      case '--concurrency': a.concurrency = numberList(next()); break;
      case '--load-seconds': a.loadSeconds = Number(next()); break;
      case '--load-requests': a.loadRequests = Number(next()); break;
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
  const unknown = a.sections.filter(s => !SECTIONS.includes(s));
  if (unknown.length || !a.sections.length) die(`--sections wants some of ${SECTIONS.join(',')}${unknown.length ? `, not ${unknown.join(',')}` : ''}`);
  a.sections = SECTIONS.filter(s => a.sections.includes(s)); // report order
  if (a.sizes.some(s => !(s > 0))) die('--sizes wants positive numbers, e.g. 20,200,1000');
  if (a.ladder.length < 3 || a.ladder.some((s, i) => !(s > 0) || (i && s <= a.ladder[i - 1]))) die('--ladder wants 3 or more growing sizes in MB, e.g. 55,103,144');
  if (a.concurrency.some(c => !(Number.isInteger(c) && c >= 1 && c <= 1024))) die('--concurrency wants integers from 1 to 1024, e.g. 4,1');
  if (!(a.loadSeconds >= 1)) die('--load-seconds wants a number >= 1');
  if (a.loadRequests != null && !(Number.isInteger(a.loadRequests) && a.loadRequests >= 1)) die('--load-requests wants an integer >= 1');
  if (!(Number.isInteger(a.runs) && a.runs >= 1)) die('--runs wants an integer >= 1');
  if (!a.out) a.out = path.join(ROOT, 'bench', 'results', `${a.sections.join('-')}-${today}.md`);
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

// user + sys CPU seconds a running process has used so far (0 once it is gone).
function processCpuS(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch (_) {
    return 0;
  }
}

// companions: pids of processes that are part of the measured work although
// the command did not start them (the HTTP server a load tool talks to). Their
// CPU time is reported as companionCpuS and not counted as other load.
function measure(label, argv, {env = process.env, timeoutS = 3600, workDir, companions = []}) {
  const base = path.join(workDir, label.replace(/[^A-Za-z0-9._-]+/g, '_'));
  const files = {stdout: `${base}.out`, stderr: `${base}.err`, time: `${base}.time`};
  fs.rmSync(files.time, {force: true});
  const outFd = fs.openSync(files.stdout, 'w');
  const errFd = fs.openSync(files.stderr, 'w');
  return new Promise(resolve => {
    const comp0 = companions.reduce((s, pid) => s + processCpuS(pid), 0);
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
      const companionCpuS = companions.length ? companions.reduce((s, pid) => s + processCpuS(pid), 0) - comp0 : null;
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
        companionCpuS,
        // (node's own bookkeeping while waiting is negligible)
        otherCores: cpuS == null ? null : Math.max(0, (busyS - cpuS - (companionCpuS || 0)) / wallS),
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
// A failed run is not repeated; opts.okExit lists the exit codes that are not
// failures (`leakhunt leaks` exits 1 when it found a leak).
async function measureQuiet(label, argv, opts, {maxOther, retries}) {
  const okExit = opts.okExit || [0];
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
    if (!disturbed || attempt >= retries || !okExit.includes(r.exitCode)) return r;
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

// The leak ladder: s1..sN.heapsnapshot from one generator process. The
// default sizes live in `ladder/`, others in `ladder-A-B-C/`.
const DEFAULT_LADDER = '55,103,144';

async function ensureLadder(benchDir, sizes) {
  const dir = path.join(benchDir, sizes.join(',') === DEFAULT_LADDER ? 'ladder' : `ladder-${sizes.join('-')}`);
  const files = sizes.map((_, i) => path.join(dir, `s${i + 1}.heapsnapshot`));
  if (files.every(f => fs.existsSync(f))) return files;
  // All snapshots come from one process, so a partial ladder cannot be
  // completed: generate the whole ladder into a temporary directory and
  // rename it, so an interrupted run never leaves a half ladder behind.
  const tmp = path.join(benchDir, `.partial-${process.pid}-${path.basename(dir)}`);
  fs.rmSync(tmp, {recursive: true, force: true});
  fs.mkdirSync(tmp, {recursive: true});
  const last = sizes[sizes.length - 1];
  log(`generating the ladder ${sizes.join(', ')} MB in ${dir} (this takes about ${Math.max(5, Math.round(last * 0.11))} s and ~${(last * 6.3 / 1000).toFixed(1)} GB RAM)`);
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bench/gen/server-heap.js'), '--ladder', sizes.join(','), '--out-dir', tmp],
      {stdio: ['ignore', 'ignore', 'inherit']});
    child.on('exit', code => code === 0 ? resolve() : reject(new Error(`generator exited with ${code}`)));
  });
  fs.rmSync(dir, {recursive: true, force: true});
  fs.renameSync(tmp, dir);
  return files;
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
    autocannon: pkgVersion('autocannon'),
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
// MB with one decimal, for leak sizes (24.5 MB per step).
const mb1 = b => (b == null ? '–' : `${(b / 1e6).toFixed(1)} MB`);
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
  const has = s => args.sections.includes(s);
  const benchDir = path.resolve(process.env.LEAKHUNT_BENCH_DIR || '/tmp/leakhunt-bench');
  const peersDir = path.resolve(process.env.BENCH_PEERS_DIR || path.join(benchDir, 'peers'));
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
  const leakhunt = process.env.LEAKHUNT_BIN || path.join(targetDir, 'release/leakhunt');
  const loadBin = process.env.LEAKHUNT_LOAD_BIN || path.join(targetDir, 'release/examples/throughput');
  const workDir = path.join(benchDir, 'work');
  fs.mkdirSync(workDir, {recursive: true});
  if ((has('summary') || has('leaks')) && !fs.existsSync(leakhunt)) die(`no leakhunt binary at ${leakhunt} (run bench/run.sh, it builds it)`);
  if (has('load') && !fs.existsSync(loadBin)) die(`no throughput example at ${loadBin} (run bench/run.sh, it builds it)`);
  if (!fs.existsSync('/usr/bin/time')) die('/usr/bin/time is missing (apt-get install -y time)');
  const memlabJs = path.join(peersDir, 'node_modules/@memlab/cli/bin/memlab.js');
  const autocannonJs = path.join(peersDir, 'node_modules/autocannon/autocannon.js');
  if (!args.skipPeers && (has('summary') || has('leaks')) && !fs.existsSync(memlabJs)) die(`peers not installed in ${peersDir} (run bench/run.sh, or pass --skip-peers)`);
  if (!args.skipPeers && has('load') && !fs.existsSync(autocannonJs)) die(`autocannon not installed in ${peersDir} (run bench/run.sh, or pass --skip-peers)`);

  // Peers are Node programs; the big files need far more than the default
  // ~4 GB heap limit (DevTools' worker needs ~4 GB on the 1 GB file).
  const peerNodeOptions = process.env.PEER_NODE_OPTIONS || '--max-old-space-size=16000';
  const peerEnv = {...process.env, NODE_OPTIONS: peerNodeOptions, HST_DIR: peersDir};
  const ctx = {
    args, benchDir, workDir, leakhunt, loadBin, memlabJs, autocannonJs, peerNodeOptions, peerEnv,
    quiet: {maxOther: args.maxOther, retries: args.retries},
  };

  const machine = machineInfo(peersDir);
  const out = {};
  if (has('summary')) out.summary = await runSummary(ctx);
  if (has('leaks')) out.leaks = await runLeaks(ctx);
  if (has('load')) out.load = await runLoad(ctx);

  const report = buildReport(args, machine, out);
  process.stdout.write(report);
  fs.mkdirSync(path.dirname(args.out), {recursive: true});
  fs.writeFileSync(args.out, report);
  log(`report written to ${path.relative(process.cwd(), args.out) || args.out}`);
  const results = out.summary || [];
  const bad = results.flatMap(r => r.agreement ? r.agreement.failed1to1 : []);
  if (bad.length) log(`WARNING: ${bad.length} 1:1 class(es) differ from DevTools by more than 0.5% — see the report`);
  const badM = results.flatMap(r => r.agreement ? r.agreement.failedMerged : []);
  if (badM.length) log(`WARNING: ${badM.length} merged class(es) disagree with DevTools — see the report`);
  if (out.leaks && out.leaks.truth) {
    const miss = out.leaks.truth.filter(t => t.leakhunt.ok === false);
    if (miss.length) log(`WARNING: leakhunt leaks got ${miss.length} planted fact(s) wrong on the ladder — see the report`);
  }
}

// ---------------------------------------------------------------------------
// `leaks --json` holds facts (schema_version 1): the owner and the path as data. The tables
// below show them as text: `collection` ("module src/cache.js > userCache") and
// `retainer_path` (one line per hop, object first).
function withShownFields(j) {
  const owner = o => !o ? null
    : o.module && (o.kind === 'module-variable' || o.kind === 'module-export') ? `module ${o.module} > ${o.path}`
    : o.kind === 'module-variable' || o.kind === 'closure-variable' ? `closure variable ${o.path}` : o.path;
  const label = (cls, name) => name && name !== cls ? `${cls} ${name}` : cls;
  for (const s of j.suspects || []) {
    s.collection = owner(s.owner);
    const p = s.path || {object: {}, steps: []};
    s.retainer_path = [`${label(p.object.class, p.object.name)} @${p.object.id}`,
      ...p.steps.map(st => `${st.edge} in ${label(st.holder_class, st.holder_name)} @${st.holder_id}`), '(GC roots)'];
  }
  return j;
}

// Section "summary": leakhunt summary vs DevTools' worker, memlab, JSON.parse
// ---------------------------------------------------------------------------

async function runSummary({args, benchDir, workDir, leakhunt, memlabJs, peerNodeOptions, peerEnv, quiet}) {
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
  return results;
}

// ---------------------------------------------------------------------------
// Section "leaks": leakhunt leaks vs memlab find-leaks on a ladder
// ---------------------------------------------------------------------------

// What the generator planted, for the ladder sizes (bench/gen/server-heap.js
// computes its plan from the sizes): leaksPerRound bus listeners and
// requestLog entries per round, and a query cache of cachePerRound entries a
// round, capped at cacheCap.
function ladderPlan(sizes) {
  try { return require('./gen/server-heap.js').planLadder(sizes); } catch (_) { return null; }
}

// Which planted thing a report (a leakhunt suspect, a memlab trace) points at.
function plantedKind(text) {
  if (/user-updated|onUserUpdated/.test(text)) return 'listener';
  if (/requestLog/.test(text)) return 'requestLog';
  if (/queryCache|QueryCacheEntry|LruCache/.test(text)) return 'cache';
  return 'other';
}

const stripAnsi = t => t.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');

// memlab find-leaks prints its "alive objects allocated in target" table on
// stdout, and progress, the verdict and the leak traces on stderr.
function parseMemlabFindLeaks(stdout, stderr) {
  const out = stripAnsi(stdout);
  const all = `${out}\n${stripAnsi(stderr)}`;
  const num = re => { const m = all.match(re); return m ? Number(m[1]) : null; };
  const res = {
    leaks: num(/MemLab found (\d+) leak/),
    noLeaksLine: /No leaks found/.test(all),
    traces: num(/Number of Traces: (\d+)/),
    samplingPct: (all.match(/Sampling Ratio: ([\d.]+)%/) || [])[1] || null,
    alive: [],
    clusters: [],
  };
  for (const line of out.split('\n')) {
    const m = line.match(/^│\s*(\d+)\s*│\s*'(.*?)'\s*│\s*'(.*?)'\s*│\s*(\d+)\s*│\s*'(.*?)'\s*│\s*$/);
    if (m) res.alive.push({name: m[2], type: m[3], count: Number(m[4]), retained: m[5]});
  }
  // A leak cluster: "--Similar leaks in this run: N--", "--Retained size of
  // leaked objects: X--", then the trace from the GC root, one edge a line:
  //   --bus (property)--->  [EventEmitter] (object) @654409 [72.4MB]
  let cur = null;
  for (const line of all.split('\n')) {
    let m;
    if ((m = line.match(/^--Similar leaks in this run: (\d+)--/))) {
      res.clusters.push(cur = {similar: Number(m[1]), retained: null, edges: []});
    } else if (cur && (m = line.match(/^--Retained size of leaked objects: (.+?)--/))) {
      cur.retained = m[1];
    } else if (cur && (m = line.match(/^\s+--(.*) \((\w+)\)--->\s+\[(.*?)\] \((.*?)\) @\d+/))) {
      cur.edges.push({name: m[1], kind: m[2], cls: m[3], type: m[4]});
    } else if (cur && !/^\s*\[/.test(line)) {
      cur = null;
    }
  }
  for (const c of res.clusters) {
    c.kind = plantedKind(c.edges.map(e => `${e.name} ${e.cls}`).join(' '));
    // Skip the (GC roots) -> global shortcut; shorten long internal edge names.
    // At most 10 edges (internal chains such as back_pointer links can be long).
    const edges = c.edges.filter(e => e.kind !== 'shortcut');
    c.path = edges.slice(0, 10).map(e => `${e.name.length > 24 ? e.name.slice(0, 24) + '…' : e.name} (${e.cls})`).join(' → ') +
      (edges.length > 10 ? ` → … (${edges.length - 10} more)` : '');
  }
  return res;
}

async function runLeaks({args, benchDir, workDir, leakhunt, memlabJs, peerNodeOptions, peerEnv, quiet}) {
  const files = await ensureLadder(benchDir, args.ladder);
  const hdrs = files.map(snapshotHeader);
  const res = {
    files, hdrs, dir: path.dirname(files[0]), bytes: hdrs.reduce((s, h) => s + h.bytes, 0),
    plan: ladderPlan(args.ladder), tools: {}, lh: null, lhStable: null, memlab: {}, truth: null,
  };
  log(`ladder ${res.dir}: ${hdrs.map((h, i) => `s${i + 1} ${(h.bytes / MB).toFixed(1)} MB`).join(', ')}`);

  // I/O floor for reading all the snapshots; the first read fills the page cache.
  const cat = ['sh', '-c', 'cat "$@" | wc -c', 'sh', ...files];
  await measure('ladder-cat-warm', cat, {workDir});
  const catRun = await measureQuiet('ladder-cat', cat, {workDir}, quiet);
  res.tools.cat = {runs: [catRun], ok: catRun.exitCode === 0};
  log(`  cat | wc -c: ${secs(catRun.wallS)}`);

  // leakhunt leaks exits 1 when it finds a leak, 0 when it finds none, 2 on errors.
  const lhRuns = [];
  for (let i = 0; i < args.runs; i++) {
    const r = await measureQuiet(`ladder-leakhunt-leaks-${i + 1}`, [leakhunt, 'leaks', ...files, '--json'],
      {timeoutS: args.timeoutS, workDir, okExit: [0, 1]}, quiet);
    r.json = null;
    if ((r.exitCode === 0 || r.exitCode === 1) && !r.signal && !r.timedOut) {
      try { r.json = withShownFields(JSON.parse(fs.readFileSync(r.files.stdout, 'utf8'))); } catch (e) { r.parseError = e.message; }
    }
    lhRuns.push(r);
    log(`  leakhunt leaks run ${i + 1}/${args.runs}: ${secs(r.wallS)}, ${mb(r.peakRssBytes)}, ` +
      (r.json ? `exit ${r.exitCode}, verdict ${r.json.verdict}, ${r.json.suspects.length} suspect(s)` : `FAILED (${r.parseError ? `bad JSON: ${r.parseError}` : failureReason(r)})`));
  }
  const bad = lhRuns.find(r => !r.json);
  res.tools.leakhunt = {runs: lhRuns, ok: !bad, reason: bad ? (bad.parseError ? `bad JSON output: ${bad.parseError}` : failureReason(bad)) : null};
  const okRuns = lhRuns.filter(r => r.json);
  if (okRuns.length) {
    const med = [...okRuns].sort((a, b) => a.wallS - b.wallS)[Math.floor((okRuns.length - 1) / 2)];
    res.lh = med.json;
    res.lhExit = med.exitCode;
    // The diagnosis must not depend on the run (leakhunt is multi-threaded).
    const key = j => JSON.stringify([j.verdict, j.suspects.map(s => [s.pattern, s.class, s.count_per_step, s.bytes_per_step, s.collection])]);
    res.lhStable = okRuns.every(r => key(r.json) === key(med.json));
  }

  if (!args.skipPeers) {
    // memlab's three inputs: before, after the action, after the action was
    // undone. On a ladder: the first, the second-to-last and the last
    // snapshot (s1, s2, s3 for three), so "allocated in target and still
    // alive in final" is what survived the last step.
    const [baseline, target, final] = [files[0], files[files.length - 2], files[files.length - 1]];
    res.memlabFiles = [baseline, target, final].map(f => path.basename(f));
    const variants = [
      // Default: memlab's leak filters, built for browsers (detached DOM
      // elements, unmounted React Fibers, XHRs, objects tagged by the user).
      ['memlab', []],
      // Every object allocated in target and alive in final counts as a leak.
      ['memlab-all', ['--trace-all-objects']],
    ];
    for (const [tool, extra] of variants) {
      const mlWork = path.join(workDir, `${tool}-find-leaks`);
      fs.rmSync(mlWork, {recursive: true, force: true});
      fs.mkdirSync(mlWork, {recursive: true});
      const argv = [process.execPath, '--expose-gc', ...peerNodeOptions.split(/\s+/).filter(Boolean), memlabJs,
        'find-leaks', '--baseline', baseline, '--target', target, '--final', final, ...extra, '--work-dir', mlWork];
      log(`  memlab find-leaks${extra.length ? ' ' + extra.join(' ') : ''} ...`);
      const r = await measureQuiet(`ladder-${tool}-find-leaks`, argv, {env: peerEnv, timeoutS: args.timeoutS, workDir}, quiet);
      let ok = r.exitCode === 0 && !r.signal && !r.timedOut;
      let reason = ok ? null : failureReason(r);
      const parsed = parseMemlabFindLeaks(fs.readFileSync(r.files.stdout, 'utf8'), fs.readFileSync(r.files.stderr, 'utf8'));
      if (ok && parsed.leaks == null) {
        ok = false;
        reason = 'no "MemLab found N leak(s)" line in its output';
      }
      res.tools[tool] = {runs: [r], ok, reason};
      res.memlab[tool] = parsed;
      log(`  ${tool}: ${secs(r.wallS)}, ${mb(r.peakRssBytes)}, ` +
        (ok ? `${parsed.leaks} leak(s), ${parsed.clusters.length} trace cluster(s) printed` : `FAILED (${reason})`));
    }
  }
  res.truth = ladderTruth(res);
  return res;
}

// The planted facts, and what each tool said about them. ok: true = right,
// false = wrong, null = the tool did not run.
function ladderTruth(res) {
  const plan = res.plan;
  const lhSuspects = res.lh ? res.lh.suspects.map(s => ({...s, kind: plantedKind(JSON.stringify([s.class, s.collection, s.retainer_path, s.location]))})) : null;
  const memlab = tool => (res.tools[tool] && res.tools[tool].ok ? res.memlab[tool] : null);
  const facts = [
    {kind: 'listener', leak: true, what: '`user-updated` listeners on `app.bus` (`onUserUpdated` closures → `RequestContext` → `Session`)',
      planned: plan ? `leak: +${int(plan.leaksPerRound)} per round, never removed` : 'leak: a fixed number per round, never removed'},
    {kind: 'requestLog', leak: true, what: '`app.requestLog` Map (one entry per leaked request)',
      planned: plan ? `leak: +${int(plan.leaksPerRound)} entries per round, never pruned` : 'leak: a fixed number of entries per round, never pruned'},
    {kind: 'cache', leak: false, what: '`app.queryCache` LRU (`QueryCacheEntry`)',
      planned: plan ? `not a leak: +${int(plan.cachePerRound)} entries per round up to its capacity of ${int(plan.cacheCap)} (sizes ${Array.from({length: plan.rounds}, (_, k) => int(Math.min((k + 1) * plan.cachePerRound, plan.cacheCap))).join(' → ')}), must not be reported`
        : 'not a leak: grows, then stays at its capacity; must not be reported'},
  ];
  for (const f of facts) {
    const hits = lhSuspects ? lhSuspects.filter(s => s.kind === f.kind) : null;
    f.leakhunt = {ok: hits == null ? null : f.leak ? hits.length > 0 : hits.length === 0, hits};
    for (const tool of ['memlab', 'memlab-all']) {
      const m = memlab(tool);
      const cl = m ? m.clusters.filter(c => c.kind === f.kind) : null;
      f[tool] = {ok: cl == null ? null : f.leak ? cl.length > 0 : cl.length === 0, hits: cl};
    }
  }
  // Reports that match none of the planted things.
  facts.others = {
    leakhunt: lhSuspects ? lhSuspects.filter(s => s.kind === 'other') : null,
    memlab: memlab('memlab') ? memlab('memlab').clusters.filter(c => c.kind === 'other') : null,
    'memlab-all': memlab('memlab-all') ? memlab('memlab-all').clusters.filter(c => c.kind === 'other') : null,
  };
  return facts;
}

// ---------------------------------------------------------------------------
// Section "load": leakhunt's load runner vs autocannon on a trivial server
// ---------------------------------------------------------------------------

// Starts crates/load/tests/fixtures/trivial-server.js on a free port (it takes
// the port as its first argument; 0 = any) and waits for "listening <port>".
// The server is killed when this process exits, however it exits.
function startTrivialServer() {
  const script = path.join(ROOT, 'crates/load/tests/fixtures/trivial-server.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '0'], {stdio: ['ignore', 'pipe', 'inherit'], detached: true});
    const stop = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch (_) { /* gone */ } };
    process.on('exit', stop);
    let buf = '';
    const timer = setTimeout(() => { stop(); reject(new Error('trivial-server.js did not print "listening <port>" within 10 s')); }, 10e3);
    child.stdout.on('data', d => {
      buf += d;
      const m = buf.match(/listening (\d+)/);
      if (m) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({pid: child.pid, port: Number(m[1]), script, stop: () => { stop(); process.removeListener('exit', stop); }});
      }
    });
    child.on('error', e => { clearTimeout(timer); reject(e); });
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`trivial-server.js exited with ${code} before listening`)); });
  });
}

// The throughput example prints
//   200,000 requests in 4.6 s (43,631/s), 0 failed, p50 0.08 ms, p99 0.28 ms
//   leakhunt-load: 43631 requests/s (concurrency 4, p90 0.14 ms, max 8.14 ms)
function parseThroughput(text) {
  const ms = s => Number(s);
  const a = text.match(/^([\d,]+) requests in ([\d.]+) s \(([\d,]+)\/s\), ([\d,]+) failed, p50 ([\d.]+) ms, p99 ([\d.]+) ms/m);
  const b = text.match(/^leakhunt-load: ([\d.]+) requests\/s \(concurrency (\d+), p90 ([\d.]+) ms, max ([\d.]+) ms\)/m);
  if (!a || !b) return null;
  const n = s => Number(s.replace(/,/g, ''));
  // sent: everything the process sent, its own warm-up of max(100, N/20) included.
  return {requests: n(a[1]), sent: n(a[1]) + Math.max(100, Math.floor(n(a[1]) / 20)), failed: n(a[4]), rps: Number(b[1]), p50Ms: ms(a[5]), p90Ms: ms(b[3]), p99Ms: ms(a[6]), maxMs: ms(b[4])};
}

// autocannon --json: requests.total over duration (s, 10 ms resolution);
// latencies are whole milliseconds (an HDR histogram of integers).
function parseAutocannon(text) {
  try {
    const j = JSON.parse(text.trim().split('\n').filter(l => l.startsWith('{')).pop());
    return {
      requests: j.requests.total, sent: j.requests.sent || j.requests.total, failed: j.errors + j.timeouts + j.non2xx, rps: j.requests.total / j.duration,
      p50Ms: j.latency.p50, p90Ms: j.latency.p90, p99Ms: j.latency.p99, maxMs: j.latency.max, wholeMs: true,
    };
  } catch (_) {
    return null;
  }
}

// About n, rounded to two significant digits (436,310 -> 440,000).
const roundNice = x => { const p = 10 ** Math.max(0, Math.floor(Math.log10(x)) - 1); return Math.max(1000, Math.round(x / p) * p); };

async function runLoad({args, workDir, loadBin, autocannonJs, quiet}) {
  const server = await startTrivialServer();
  const url = `http://127.0.0.1:${server.port}/`;
  const res = {port: server.port, url, script: path.relative(ROOT, server.script), levels: []};
  log(`load: trivial server (pid ${server.pid}) on ${url}`);
  const timeoutS = Math.min(args.timeoutS, 30 * args.loadSeconds + 60);
  const opts = {workDir, timeoutS, companions: [server.pid]};
  try {
    for (const c of args.concurrency) {
      // Warm-up: the server's JIT, and the rate that sizes the measured runs
      // (guarded like a measurement, since a disturbed rate would size them wrong).
      const warmN = Math.max(5000, 5000 * Math.min(c, 4));
      const w = await measureQuiet(`load-c${c}-warmup`, [loadBin, url, '--requests', String(warmN), '--concurrency', String(c)], opts, quiet);
      const wp = w.exitCode === 0 ? parseThroughput(fs.readFileSync(w.files.stdout, 'utf8')) : null;
      if (!wp) throw new Error(`warm-up at concurrency ${c} failed: ${failureReason(w)}`);
      const requests = args.loadRequests || roundNice(wp.rps * args.loadSeconds);
      log(`  concurrency ${c}: warm-up ${int(wp.rps)} requests/s; leakhunt-load runs ${int(requests)} requests, autocannon ${args.loadSeconds} s`);
      const lvl = {concurrency: c, requests, warmRps: wp.rps, tools: {}};
      res.levels.push(lvl);
      const tools = [['leakhunt-load', [loadBin, url, '--requests', String(requests), '--concurrency', String(c)], parseThroughput]];
      if (!args.skipPeers) {
        tools.push(['autocannon', [process.execPath, autocannonJs, '-c', String(c), '-d', String(args.loadSeconds), '--json', url], parseAutocannon]);
      }
      for (const [tool] of tools) lvl.tools[tool] = {runs: [], ok: true, reason: null};
      // Runs alternate between the tools, so slow drift on the machine
      // affects both alike.
      for (let i = 0; i < args.runs; i++) {
        for (const [tool, argv, parse] of tools) {
          const r = await measureQuiet(`load-c${c}-${tool}-${i + 1}`, argv, opts, quiet);
          r.load = r.exitCode === 0 && !r.signal && !r.timedOut ? parse(fs.readFileSync(r.files.stdout, 'utf8')) : null;
          const t = lvl.tools[tool];
          t.runs.push(r);
          if (!r.load) {
            t.ok = false;
            t.reason = t.reason || (r.exitCode === 0 ? 'no result in its output' : failureReason(r));
          } else if (r.load.failed) {
            t.ok = false;
            t.reason = t.reason || `${int(r.load.failed)} failed requests`;
          }
          log(`  ${tool} c=${c} run ${i + 1}/${args.runs}: ` +
            (r.load ? `${int(r.load.rps)} requests/s, p50 ${r.load.p50Ms} ms, p99 ${r.load.p99Ms} ms` : `FAILED (${t.reason})`) +
            (r.otherCores != null ? `, other load ${r.otherCores.toFixed(2)}` : ''));
        }
      }
    }
  } finally {
    server.stop();
  }
  return res;
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

function buildReport(args, m, out) {
  const L = [];
  const p = s => L.push(s);
  const has = s => args.sections.includes(s);
  p(`# leakhunt benchmark, ${m.date.slice(0, 10)}`);
  p('');
  p(`- Machine: ${m.cpu}; ${m.cores} cores; ${m.ramGb.toFixed(1)} GB (${(m.ramGb * 1e9 / 2 ** 30).toFixed(1)} GiB) RAM`);
  p(`- OS: ${m.os}`);
  p(`- Node ${m.node}; ${m.rustc}`);
  p(`- leakhunt commit ${m.leakhunt}, release build`);
  if (!args.skipPeers) {
    const peers = [];
    if (has('summary') || has('leaks')) peers.push(`@memlab/cli ${m.memlab}`);
    if (has('summary')) peers.push(`heap-snapshot-toolkit ${m.hst} (DevTools heap snapshot worker)`);
    if (has('load')) peers.push(`autocannon ${m.autocannon}`);
    p(`- Peers: ${peers.join(', ')}` + (has('summary') || has('leaks') ? `; peers run with \`${process.env.PEER_NODE_OPTIONS || '--max-old-space-size=16000'}\` ` +
      '(in NODE_OPTIONS; for memlab as node flags, replacing the `--max-old-space-size=4096` of its bin script)' : ''));
  }
  p(`- Date: ${m.date}; load average at start ${m.loadavg} (1, 5, 15 min)`);
  p(`- Command: \`${process.env.BENCH_CMDLINE || `node bench/run.js ${process.argv.slice(2).join(' ')}`}\``);
  p('');
  if (out.summary) summaryReport(args, out.summary, p);
  if (out.leaks) leaksReport(args, out.leaks, p);
  if (out.load) loadReport(args, out.load, p);
  return L.join('\n') + '\n';
}

function summaryReport(args, results, p) {
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

// One row of a speed table (same columns and rules as the summary's "Speed
// and memory"): median wall, best, MB/s, peak RSS, CPU of the median run,
// worst other load, and the ratio to leakhunt's median.
function speedCells(t, label, bytes, lhMed, {showRss = true} = {}) {
  const tries = t.runs.reduce((n, x) => n + (x.attempts || 1), 0) - t.runs.length;
  const walls = t.runs.map(x => x.wallS);
  const rss = Math.max(...t.runs.map(x => x.peakRssBytes || 0)) || null;
  const medRun = [...t.runs].sort((a, b) => a.wallS - b.wallS)[Math.floor((t.runs.length - 1) / 2)];
  const cpu = medRun.cpuS == null ? '–' : secs(medRun.cpuS);
  const longRuns = t.runs.filter(x => x.otherCores != null && x.wallS >= 0.5);
  const other = longRuns.length ? Math.max(...longRuns.map(x => x.otherCores)).toFixed(2) : '–';
  const name = `${label}${tries ? ` (${tries} re-run${tries > 1 ? 's' : ''})` : ''}`;
  if (!t.ok) return `${name} | failed (${escapeMd(t.reason || '?')}) after ${secs(Math.max(...walls))} | | | ${mb(rss)} | ${cpu} | ${other} | |`;
  const w = median(walls);
  const ratio = lhMed && w !== lhMed ? `${(w / lhMed).toFixed(w / lhMed < 10 ? 1 : 0)}×` : '';
  return `${name} | ${secs(w)} | ${t.runs.length > 1 ? secs(Math.min(...walls)) : ''} | ${Math.round(bytes / MB / w).toLocaleString('en-US')} | ` +
    `${showRss ? mb(rss) : ''} | ${cpu} | ${other} | ${ratio} |`;
}

const LEAKS_LABEL = {
  cat: '`cat s1 … sN \\| wc -c` (I/O floor)',
  leakhunt: '**leakhunt** leaks',
  memlab: 'memlab find-leaks (default filters)',
  'memlab-all': 'memlab find-leaks --trace-all-objects',
};

function leaksReport(args, res, p) {
  const n = res.files.length;
  const names = res.files.map(f => path.basename(f, '.heapsnapshot'));
  p(`## Leak diagnosis on a ladder`);
  p('');
  p(`Input: ${n} snapshots of one process (\`bench/gen/server-heap.js --ladder ${args.ladder.join(',')}\`, cached in \`${res.dir}\`), ` +
    'each taken after the same amount of simulated traffic. Planted: per request, a `user-updated` listener on the global `app.bus` ' +
    'EventEmitter that is never removed (it captures the request\'s `RequestContext` and, through it, the closed `Session`) and an ' +
    '`app.requestLog` Map entry that is never deleted; plus a query cache (an LRU) that fills up and then stays flat, which must ' +
    'not be reported. ' +
    `leakhunt: \`leakhunt leaks ${names.join(' ')} --json\`, run ${args.runs} time(s) (exit code 1 means "leak found", not a failure). ` +
    (args.skipPeers ? '' : `memlab: \`memlab find-leaks --baseline ${res.memlabFiles[0]} --target ${res.memlabFiles[1]} --final ${res.memlabFiles[2]}\`, ` +
      'once with its default leak filters and once with `--trace-all-objects` (every object allocated in target and still alive in final ' +
      'counts as a leak candidate); each ran once, started like `memlab analyze` in the summary section. ') +
    'Columns as in the summary section; MB/s = size of all input files / wall time.');
  p('');
  p('| snapshots | size | nodes | tool | wall | best | MB/s | peak RSS | CPU | other load | wall vs leakhunt |');
  p('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  const lh = res.tools.leakhunt;
  const lhMed = lh && lh.ok ? median(lh.runs.map(x => x.wallS)) : null;
  let first = true;
  for (const tool of ['cat', 'leakhunt', 'memlab', 'memlab-all']) {
    const t = res.tools[tool];
    if (!t) continue;
    const fileCells = first
      ? `| ${names.join(', ')} | ${res.hdrs.map(h => (h.bytes / MB).toFixed(1)).join(' + ')} MB | ${res.hdrs.map(h => `${(h.nodes / 1e6).toFixed(2)}`).join(' / ')} M `
      : '| | | ';
    first = false;
    p(`${fileCells}| ${speedCells(t, LEAKS_LABEL[tool], res.bytes, tool === 'leakhunt' ? null : lhMed, {showRss: tool !== 'cat'})}`);
  }
  p('');

  p('### What they found');
  p('');
  const truth = res.truth;
  const mark = ok => (ok == null ? '–' : ok ? '✔' : '✘');
  const traces = n => `${int(n)} trace${n === 1 ? '' : 's'}`;
  const lhCell = f => {
    if (f.leakhunt.ok == null) return '– (failed)';
    if (!f.leakhunt.hits.length) return `${mark(f.leakhunt.ok)} not reported`;
    return `${mark(f.leakhunt.ok)} ` + f.leakhunt.hits.map(s => `reported: \`${s.pattern}\`, class \`${escapeMd(s.class)}\`, ` +
      `${int(s.count_per_step)}/step, ${mb1(s.bytes_per_step)}/step${s.collection ? `, in \`${escapeMd(s.collection)}\`` : ''}`).join('; ');
  };
  const mlCell = (f, tool) => {
    const x = f[tool];
    if (!res.tools[tool]) return '–';
    if (x.ok == null) return '– (failed)';
    if (!x.hits.length) return `${mark(x.ok)} not reported`;
    return `${mark(x.ok)} reported: ${x.hits.map(c => `a cluster of ${traces(c.similar)}, ${c.retained}`).join('; ')}`;
  };
  const cols = ['leakhunt leaks'];
  if (res.tools.memlab) cols.push('memlab find-leaks', 'memlab --trace-all-objects');
  p(`| planted | what the generator did | ${cols.join(' | ')} |`);
  p(`|---|---|${cols.map(() => '---').join('|')}|`);
  for (const f of truth) {
    p(`| ${f.what} | ${f.planned} | ${lhCell(f)}${res.tools.memlab ? ` | ${mlCell(f, 'memlab')} | ${mlCell(f, 'memlab-all')}` : ''} |`);
  }
  const o = truth.others;
  const otherCell = (list, fmt) => (list == null ? '–' : list.length ? list.map(fmt).join('; ') : 'none');
  p(`| anything else | – | ${otherCell(o.leakhunt, s => `\`${s.pattern}\` \`${escapeMd(s.class)}\` in \`${escapeMd(s.collection || '?')}\``)}` +
    (res.tools.memlab ? ` | ${otherCell(o.memlab, c => `${traces(c.similar)}: ${escapeMd(c.path.slice(0, 80))}`)} | ${otherCell(o['memlab-all'], c => `a cluster of ${traces(c.similar)} through ${escapeMd(c.path.split(' → ').slice(0, 3).join(' → '))}`)}` : '') + ' |');
  p('');
  p('✔ = right (a planted leak reported, the bounded cache not reported), ✘ = wrong.');
  p('');

  if (res.lh) {
    const j = res.lh;
    p(`#### leakhunt leaks`);
    p('');
    p(`Verdict \`${j.verdict}\` (exit code ${res.lhExit}), ${j.suspects.length} suspect(s) over ${j.steps} step(s)` +
      `${res.lhStable === false ? '. **The runs did not all give the same answer**' : res.tools.leakhunt.runs.length > 1 ? '; every run gave the same answer' : ''}.`);
    p('');
    if (j.suspects.length) {
      p('| # | pattern | class | count per step | bytes per step | collection | retained in the last snapshot | retainer path (first 3 steps) |');
      p('|---:|---|---|---:|---:|---|---:|---|');
      j.suspects.forEach((s, i) => {
        const step = (s.retainer_path || []).slice(0, 3).join(' ← ');
        p(`| ${i + 1} | \`${s.pattern}\` | \`${escapeMd(s.class)}\` | ${int(s.count_per_step)} | ${mb1(s.bytes_per_step)} | ` +
          `${s.collection ? `\`${escapeMd(s.collection)}\`` : '–'} | ${mb1(s.retained_bytes)} | ${escapeMd(step)} |`);
      });
      p('');
    }
  }
  for (const tool of ['memlab', 'memlab-all']) {
    const t = res.tools[tool];
    if (!t) continue;
    const m = res.memlab[tool];
    p(`#### ${LEAKS_LABEL[tool]}`);
    p('');
    if (!t.ok) {
      p(`Failed: ${escapeMd(t.reason)}.`);
      p('');
      continue;
    }
    p(`memlab printed "MemLab found ${m.leaks} leak(s)"${m.noLeaksLine ? ' and "No leaks found"' : ''}` +
      `${m.traces != null ? `; it had ${int(m.traces)} leak traces and clustered a sample of them (sampling ratio ${m.samplingPct}%)` : ''}` +
      `${m.clusters.length ? `; ${m.clusters.length} trace cluster(s) printed` : ''}.`);
    p('');
    if (m.clusters.length) {
      p('| # | similar traces | retained | planted item | trace from the GC root |');
      p('|---:|---:|---:|---|---|');
      m.clusters.forEach((c, i) => p(`| ${i + 1} | ${int(c.similar)} | ${c.retained || '–'} | ${c.kind === 'other' ? '–' : c.kind} | ${escapeMd(c.path)} |`));
      p('');
    }
    if (tool === 'memlab' && m.alive.length) {
      p(`Before the verdict it prints a table of objects "allocated in target page" (${res.memlabFiles[1]}) and still alive in ${res.memlabFiles[2]}, ` +
        'its leak candidates before filtering. The top rows:');
      p('');
      p('| name | type | count | retained |');
      p('|---|---|---:|---:|');
      for (const a of m.alive.slice(0, 8)) p(`| \`${escapeMd(a.name || '(empty)')}\` | ${a.type} | ${int(a.count)} | ${a.retained} |`);
      p('');
    }
  }
}

function loadReport(args, res, p) {
  p('## Load runner throughput');
  p('');
  p(`Server: \`node ${res.script} 0\` (it answers every request with \`ok\`; it listened on port ${res.port}), one Node process, ` +
    'started once for the whole section and killed at the end. ' +
    'Before each concurrency level a warm-up run of leakhunt-load (not counted) warms up the server and measures the rate that sizes the runs. ' +
    `leakhunt-load: \`cargo run --release -p leakhunt-load --example throughput -- ${res.url} --requests N --concurrency C\` ` +
    '(the bench runs the built example binary directly); it does its own short warm-up (N/20 requests), then reports requests / its own wall time over N requests. ' +
    (args.skipPeers ? '' : `autocannon: \`autocannon -c C -d ${args.loadSeconds} --json ${res.url}\` (run as \`node …/autocannon/autocannon.js\`); requests/s = \`requests.total / duration\`. `) +
    `Each tool ran ${args.runs} time(s) per level, alternating; "requests/s" is the median, "best" the highest. Latencies are from the median run; ` +
    'autocannon records whole milliseconds, so "<1 ms" is all it can say about sub-millisecond latency. ' +
    '"client CPU" and "server CPU" are the cores the load tool and the server used on average during the run (user + sys time / wall time of the tool\'s process); ' +
    '"… per request" divides that CPU time by all the requests the tool sent (for leakhunt-load including its own warm-up; the client\'s start-up is included). ' +
    '"other load" is everything else, in cores, the worst of the runs; the server\'s CPU is not counted there. Client and server share the 2 cores, ' +
    'so a client that needs less CPU per request leaves more for the server.');
  p('');
  p('| concurrency | tool | requests/s | best | requests per run | p50 | p99 | client CPU | client CPU per request | server CPU | server CPU per request | other load | requests/s vs leakhunt-load |');
  p('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const lat = (l, v) => (v == null ? '–' : l.wholeMs && v === 0 ? '<1 ms' : `${v} ms`);
  for (const lvl of res.levels) {
    const lh = lvl.tools['leakhunt-load'];
    const okRps = t => t.runs.filter(r => r.load).map(r => r.load.rps);
    const lhMed = lh && lh.ok ? median(okRps(lh)) : null;
    let first = true;
    for (const tool of ['leakhunt-load', 'autocannon']) {
      const t = lvl.tools[tool];
      if (!t) continue;
      const c = first ? `| ${lvl.concurrency} ` : '| ';
      first = false;
      const tries = t.runs.reduce((n, x) => n + (x.attempts || 1), 0) - t.runs.length;
      const label = `${tool === 'leakhunt-load' ? '**leakhunt-load**' : 'autocannon'}${tries ? ` (${tries} re-run${tries > 1 ? 's' : ''})` : ''}`;
      const rates = okRps(t);
      const longRuns = t.runs.filter(x => x.otherCores != null && x.wallS >= 0.5);
      const other = longRuns.length ? Math.max(...longRuns.map(x => x.otherCores)).toFixed(2) : '–';
      if (!rates.length) {
        p(`${c}| ${label} | failed (${escapeMd(t.reason || '?')}) | | | | | | | | | | ${other} | |`);
        continue;
      }
      const withLoad = t.runs.filter(r => r.load);
      const med = [...withLoad].sort((a, b) => a.load.rps - b.load.rps)[Math.floor((withLoad.length - 1) / 2)];
      const rps = median(rates);
      const perRun = tool === 'autocannon' ? `${int(median(withLoad.map(r => r.load.requests)))} in ${args.loadSeconds} s` : int(lvl.requests);
      const cores = s => (s == null ? '–' : (s / med.wallS).toFixed(2));
      const perReq = s => (s == null ? '–' : `${(s / med.load.sent * 1e6).toFixed(1)} µs`);
      p(`${c}| ${label}${t.ok ? '' : ` (**${escapeMd(t.reason)}**)`} | ${int(rps)} | ${rates.length > 1 ? int(Math.max(...rates)) : ''} | ${perRun} | ` +
        `${lat(med.load, med.load.p50Ms)} | ${lat(med.load, med.load.p99Ms)} | ${cores(med.cpuS)} | ` +
        `${perReq(med.cpuS)} | ${cores(med.companionCpuS)} | ${perReq(med.companionCpuS)} | ${other} | ` +
        `${tool === 'leakhunt-load' || !lhMed ? '' : `${(rps / lhMed).toFixed(2)}×`} |`);
    }
  }
  p('');
}

if (require.main === module) {
  main().catch(e => {
    process.stderr.write(`bench: ${e && e.stack || e}\n`);
    process.exit(1);
  });
}
module.exports = {compareClasses, leakhuntNameFor, measure, measureQuiet, machineInfo, snapshotHeader, ensureSnapshot, failureReason, log, int, secs, mb, median};
