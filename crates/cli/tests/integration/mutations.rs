//! Damaged snapshots through every command that reads them. Mutants of a real ladder (three
//! snapshots of a leaking Node process) are generated from a seed: truncated, bytes flipped,
//! sections reordered or doubled, counts made huge, unknown types, bad UTF-8 and escapes,
//! numbers out of range, gzip damaged, data after the end. Each goes through `summary`,
//! `retainers --class`/`--id`, `diff` and `leaks`, in the place of the snapshot it was made
//! from. An oracle written from the format's description, not from the reader, says which
//! mutants are still valid snapshots. Then: bad input exits 2 with one line naming the file;
//! valid input exits 0 or 1 (or 2 with one line, for a class or id the mutation removed); no
//! run panics, hangs, dies of a signal or uses memory out of proportion to its input.
//!
//! `LEAKHUNT_MUTANTS=10000 cargo nextest run -E 'test(many_mutants)' --run-ignored all
//! --no-capture` runs any number and prints the tally.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::support::*;

/// A run that takes longer than this hangs (a normal one takes a fraction of a second).
const DEADLINE: Duration = Duration::from_secs(120);
/// Address space each run may use: a few times what reading these files needs, far below
/// what a header's claims would reserve if believed (tens of GiB).
const ADDRESS_SPACE: u64 = 1 << 30;

// --- The ladder the mutants come from -----------------------------------------------------

struct Ladder {
    files: [PathBuf; 3],
    texts: [Vec<u8>; 3],
    class: String,
    id: u32,
}

fn ladder() -> Ladder {
    // Read only: the mutants are written elsewhere.
    let script = repo_root().join("crates/diagnosis/tests/fixtures/map-cache-leak.js");
    let files: [PathBuf; 3] = leakhunt_testkit::snapshots::ladder(&node(), &script, 3)
        .try_into()
        .unwrap();
    let texts = files.clone().map(|f| std::fs::read(f).unwrap());
    // An object every snapshot holds: one of the first snapshot's leaked profiles.
    let class = "UserProfile".to_string();
    let out = leakhunt_json(&[
        "retainers",
        path_str(&files[0]),
        "--class",
        &class,
        "--json",
    ]);
    let id = out["targets"][0]["id"].as_u64().unwrap() as u32;
    Ladder {
        files,
        texts,
        class,
        id,
    }
}

// --- Running the binary -------------------------------------------------------------------

struct Outcome {
    /// Exit code, or `None` when a signal ended the run (or the deadline: `hung`).
    code: Option<i32>,
    signal: Option<i32>,
    hung: bool,
    stderr: String,
    /// Peak resident memory of the run as last seen while it ran, KiB.
    max_rss_kb: i64,
}

/// Runs leakhunt with a memory limit and a deadline; `stdin_file` feeds standard input.
fn run_limited(args: &[String], stdin_file: Option<&Path>, scratch: &Path) -> Outcome {
    let err_path = scratch.with_extension("stderr");
    let err_file = std::fs::File::create(&err_path).unwrap();
    // The limit is set by a shell that then becomes leakhunt: a child forked from this
    // (large) test process would start with its memory counted in the peak.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -v "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg((ADDRESS_SPACE / 1024).to_string())
        .arg(env!("CARGO_BIN_EXE_leakhunt"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("LEAKHUNT_TIMINGS")
        .stdout(Stdio::null())
        .stderr(err_file)
        .stdin(match stdin_file {
            Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
            None => Stdio::null(),
        });
    let child = cmd.spawn().expect("run leakhunt");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut hung = false;
    let mut peak_kb = 0;
    let status = loop {
        let mut status = 0;
        // SAFETY: a plain FFI call with a valid pointer; the child is ours to reap.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break status;
        }
        assert!(r == 0, "waitpid: {}", std::io::Error::last_os_error());
        // The kernel's own peak (VmHWM) of the running program. The rusage of the exited
        // child would count this test process's memory, which the child shared until exec.
        peak_kb = peak_kb.max(resident_peak_kb(pid));
        if !hung && start.elapsed() > DEADLINE {
            hung = true;
            // SAFETY: kill only signals; the pid is our unreaped child, so it cannot name another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    drop(child); // already reaped
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Outcome {
        code: if hung { None } else { code },
        signal,
        hung,
        stderr,
        max_rss_kb: peak_kb,
    }
}

/// VmHWM of a running process, KiB (0 once it has exited or before it has exec'd).
fn resident_peak_kb(pid: libc::pid_t) -> i64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    let is_leakhunt = status
        .lines()
        .next()
        .is_some_and(|l| l.contains("leakhunt"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .filter(|_| is_leakhunt)
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

// --- The oracle ---------------------------------------------------------------------------

/// A JSON value that keeps an object's keys in order, duplicates included.
enum J {
    Null,
    Bool,
    /// `Some` for a non-negative integer written as such; `None` for any other number.
    Num(Option<u64>),
    /// A negative integer (serde reads `-0` as one): a `u64` field takes it when ≥ 0.
    Neg(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> serde::Deserialize<'de> for J {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<J, E> {
                Ok(J::Bool)
            }
            fn visit_u64<E>(self, v: u64) -> Result<J, E> {
                Ok(J::Num(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<J, E> {
                Ok(J::Neg(v))
            }
            fn visit_f64<E>(self, _: f64) -> Result<J, E> {
                Ok(J::Num(None))
            }
            fn visit_str<E>(self, v: &str) -> Result<J, E> {
                Ok(J::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<J, E> {
                Ok(J::Str(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(kv) => kv.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(kv) => kv.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }
    /// What serde reads into a `u64` field.
    fn as_u64(&self) -> Option<u64> {
        match *self {
            J::Num(v) => v,
            J::Neg(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
    fn strings(&self) -> Option<Vec<&str>> {
        match self {
            J::Arr(v) => v
                .iter()
                .map(|x| match x {
                    J::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Valid,
    Invalid,
    /// Outside what the oracle decides (a lone surrogate escape, which the reader accepts
    /// as Bun writes them and serde refuses): only the general rules are checked.
    Undecided,
}

/// Whether `bytes` is a heap snapshot the format allows, decided from the format's rules:
/// gzip that decodes cleanly, strict JSON, keys once, the header before the arrays it
/// describes, the fields each record needs, counts that match, indices that point inside.
fn oracle(bytes: &[u8]) -> Verdict {
    let text: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        match flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out) {
            Ok(_) => out,
            Err(_) => return Verdict::Invalid,
        }
    } else {
        bytes.to_vec()
    };
    let doc: J = match serde_json::from_slice(&text) {
        Ok(j) => j,
        Err(e) if e.to_string().contains("surrogate") || e.to_string().contains("hex escape") => {
            return Verdict::Undecided
        }
        Err(_) => return Verdict::Invalid,
    };
    if structure_ok(&doc).is_some() {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

/// More bytes than any heap holds: the nodes' self sizes may not add up to more.
const MAX_HEAP_BYTES: u64 = 1 << 53;

/// The largest number the arrays may hold: 19 digits.
const MAX_ARRAY_NUMBER: u64 = 9_999_999_999_999_999_999;

fn structure_ok(doc: &J) -> Option<()> {
    let J::Obj(top) = doc else { return None };
    let keys = doc.keys();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != keys.len() {
        return None;
    }
    let pos = |k: &str| keys.iter().position(|x| *x == k);
    let header_at = pos("snapshot")?;
    for k in ["nodes", "edges", "strings"] {
        pos(k)?;
    }
    for k in ["nodes", "edges", "locations"] {
        if pos(k).is_some_and(|p| p < header_at) {
            return None;
        }
    }
    let _ = top;
    // The header, as a struct with these fields reads it (unknown fields ignored, known
    // ones once).
    let header = doc.get("snapshot")?;
    let meta = header.get("meta")?;
    for (obj, fields) in [
        (
            header,
            &["meta", "node_count", "edge_count", "extra_native_bytes"][..],
        ),
        (
            meta,
            &[
                "node_fields",
                "node_types",
                "edge_fields",
                "edge_types",
                "location_fields",
            ],
        ),
    ] {
        if !matches!(obj, J::Obj(_)) {
            return None;
        }
        for f in fields {
            if obj.keys().iter().filter(|k| *k == f).count() > 1 {
                return None;
            }
        }
    }
    let node_count = header.get("node_count")?.as_u64()?;
    let edge_count = header.get("edge_count")?.as_u64()?;
    if let Some(x) = header.get("extra_native_bytes") {
        if x.as_u64()? > MAX_HEAP_BYTES {
            return None;
        }
    }
    if node_count == 0 || node_count > u32::MAX as u64 || edge_count > u32::MAX as u64 {
        return None;
    }
    let node_fields = meta.get("node_fields")?.strings()?;
    let edge_fields = meta.get("edge_fields")?.strings()?;
    let location_fields = match meta.get("location_fields") {
        Some(l) => l.strings()?,
        None => Vec::new(),
    };
    let type_names = |list: &str| -> Option<Vec<&str>> {
        let J::Arr(v) = meta.get(list)? else {
            return None;
        };
        let names = v.first()?.strings()?;
        (!names.is_empty()).then_some(names)
    };
    let node_types = type_names("node_types")?;
    let edge_types = type_names("edge_types")?;
    let field = |fields: &[&str], name: &str| -> Option<usize> {
        (fields.iter().filter(|f| **f == name).count() == 1)
            .then(|| fields.iter().position(|f| *f == name).unwrap())
    };
    let [nt, nn, ni, ns, ne] =
        ["type", "name", "id", "self_size", "edge_count"].map(|f| field(&node_fields, f));
    let (nt, nn, ni, ns, ne) = (nt?, nn?, ni?, ns?, ne?);
    let [et, en, eto] = ["type", "name_or_index", "to_node"].map(|f| field(&edge_fields, f));
    let (et, en, eto) = (et?, en?, eto?);
    let node_stride = node_fields.len();
    let edge_stride = edge_fields.len();
    if node_stride > 16 || edge_stride > 8 {
        return None;
    }
    let strings = doc.get("strings")?.strings()?;
    let uints = |key: &str| -> Option<Vec<u64>> {
        let J::Arr(v) = doc.get(key)? else {
            return None;
        };
        v.iter()
            .map(|x| match x {
                J::Num(Some(n)) if *n <= MAX_ARRAY_NUMBER => Some(*n),
                _ => None,
            })
            .collect()
    };
    let nodes = uints("nodes")?;
    if nodes.len() as u64 != node_count * node_stride as u64 {
        return None;
    }
    let mut edge_sum = 0u64;
    let mut size_sum = 0u128;
    for rec in nodes.chunks(node_stride) {
        size_sum += rec[ns] as u128;
        if rec[nt] >= node_types.len() as u64
            || rec[nn] >= strings.len() as u64
            || rec[ni] > u32::MAX as u64
        {
            return None;
        }
        edge_sum = edge_sum.checked_add(rec[ne])?;
    }
    if edge_sum != edge_count || size_sum > MAX_HEAP_BYTES as u128 {
        return None;
    }
    let edges = uints("edges")?;
    if edges.len() as u64 != edge_count * edge_stride as u64 {
        return None;
    }
    for rec in edges.chunks(edge_stride) {
        let t = *edge_types.get(rec[et] as usize)?;
        if rec[en] > u32::MAX as u64
            || rec[eto] % node_stride as u64 != 0
            || rec[eto] / node_stride as u64 >= node_count
        {
            return None;
        }
        // Edges named by a string must name one; element and hidden edges hold an
        // index, and a type we do not know may hold either.
        let named = ["context", "property", "internal", "shortcut", "weak"].contains(&t);
        if named && rec[en] >= strings.len() as u64 {
            return None;
        }
    }
    if !location_fields.is_empty() {
        let [lo, ls, ll, lc] =
            ["object_index", "script_id", "line", "column"].map(|f| field(&location_fields, f));
        let (lo, ls, ll, lc) = (lo?, ls?, ll?, lc?);
        let stride = location_fields.len();
        if stride > 8 {
            return None;
        }
        if doc.get("locations").is_some() {
            let locations = uints("locations")?;
            if locations.len() % stride != 0 {
                return None;
            }
            for rec in locations.chunks(stride) {
                if rec[lo] % node_stride as u64 != 0
                    || rec[lo] / node_stride as u64 >= node_count
                    || [ls, ll, lc].iter().any(|&i| rec[i] > u32::MAX as u64)
                {
                    return None;
                }
            }
        }
    }
    Some(())
}

// --- Mutations ----------------------------------------------------------------------------

/// xorshift64*: deterministic, so every run of the suite sees the same mutants.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Where each top-level section's value starts and ends in a snapshot's text.
fn sections(text: &[u8]) -> BTreeMap<String, (usize, usize)> {
    // The writers put every top-level key at the start of a line or right after `{`.
    let mut out = BTreeMap::new();
    let keys = [
        "snapshot",
        "nodes",
        "edges",
        "trace_function_infos",
        "trace_tree",
        "samples",
        "locations",
        "strings",
    ];
    let mut starts = Vec::new();
    for k in keys {
        let pat = format!("\"{k}\":");
        let at = find(text, pat.as_bytes()).unwrap_or_else(|| panic!("no {k}"));
        starts.push((at, k));
    }
    starts.sort();
    for (i, &(at, k)) in starts.iter().enumerate() {
        let end = match starts.get(i + 1) {
            Some(&(next, _)) => text[..next].iter().rposition(|&b| b == b',').unwrap(),
            None => text.iter().rposition(|&b| b == b'}').unwrap(),
        };
        out.insert(k.to_string(), (at, end));
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn splice(text: &[u8], at: usize, remove: usize, insert: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + insert.len());
    out.extend_from_slice(&text[..at]);
    out.extend_from_slice(insert);
    out.extend_from_slice(&text[(at + remove).min(text.len())..]);
    out
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text).unwrap();
    gz.finish().unwrap()
}

/// The positions of numbers inside a section (start of each run of digits).
fn number_at(text: &[u8], (start, end): (usize, usize), rng: &mut Rng) -> (usize, usize) {
    let body = start + find(&text[start..end], b"[").unwrap_or(0);
    for _ in 0..64 {
        let mut i = body + rng.below(end - body);
        if !text[i].is_ascii_digit() {
            continue;
        }
        while text[i - 1].is_ascii_digit() {
            i -= 1;
        }
        let len = text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        return (i, len);
    }
    (body + 1, 0)
}

const KINDS: usize = 24;

/// Mutant `i` of `text`, a short description of what was done and, for mutations whose
/// validity is known by construction where the oracle cannot judge it, that verdict.
fn mutate(text: &[u8], i: usize, rng: &mut Rng) -> (Vec<u8>, String, Option<Verdict>) {
    let (bytes, what) = mutate_text(text, i, rng);
    // Nesting deeper than serde's recursion limit: balanced brackets in place of an empty
    // array are valid, unbalanced ones not.
    let known =
        what.starts_with("trace_tree nested")
            .then(|| match what.ends_with("balanced: true") {
                true => Verdict::Valid,
                false => Verdict::Invalid,
            });
    (bytes, what, known)
}

fn mutate_text(text: &[u8], i: usize, rng: &mut Rng) -> (Vec<u8>, String) {
    let secs = sections(text);
    let sec = |k: &str| secs[k];
    let any_section = [
        "snapshot",
        "nodes",
        "edges",
        "locations",
        "strings",
        "trace_tree",
    ];
    let interesting = b"0123456789,[]{}\":- \n.eE\\\x00\x7f\xff\xc3";
    match i % KINDS {
        0 | 1 => {
            let at = rng.below(text.len());
            (text[..at].to_vec(), format!("truncated at {at}"))
        }
        2 | 3 => {
            let at = rng.below(text.len());
            let b = *rng.pick(interesting);
            (
                splice(text, at, 1, &[b]),
                format!("byte {at} set to {b:#04x}"),
            )
        }
        4 => {
            let k = *rng.pick(&any_section);
            let (s, e) = sec(k);
            let at = s + rng.below(e - s);
            let b = (rng.next() & 0xff) as u8;
            (
                splice(text, at, 1, &[b]),
                format!("byte {at} set to {b:#04x}"),
            )
        }
        5 => {
            let at = rng.below(text.len());
            let n = 1 + rng.below(64);
            (
                splice(text, at, n, b""),
                format!("{n} bytes deleted at {at}"),
            )
        }
        6 => {
            let at = rng.below(text.len());
            let n = 1 + rng.below(64).min(text.len() - at);
            let copy = text[at..at + n].to_vec();
            let to = rng.below(text.len());
            (
                splice(text, to, 0, &copy),
                format!("{n} bytes of {at} copied to {to}"),
            )
        }
        7 => {
            // Two sections swapped.
            let names: Vec<&String> = secs.keys().collect();
            let (a, b) = (rng.pick(&names).as_str(), rng.pick(&names).as_str());
            let (x, y) = if sec(a).0 < sec(b).0 {
                (sec(a), sec(b))
            } else {
                (sec(b), sec(a))
            };
            if x == y {
                return (text.to_vec(), "unchanged".into());
            }
            let mut out = text[..x.0].to_vec();
            out.extend_from_slice(&text[y.0..y.1]);
            out.extend_from_slice(&text[x.1..y.0]);
            out.extend_from_slice(&text[x.0..x.1]);
            out.extend_from_slice(&text[y.1..]);
            (out, format!("sections {a} and {b} swapped"))
        }
        8 => {
            let k = rng.pick(&any_section);
            let (s, e) = sec(k);
            let copy = [b",".as_slice(), &text[s..e]].concat();
            let end = text.iter().rposition(|&b| b == b'}').unwrap();
            (
                splice(text, end, 0, &copy),
                format!("section {k} given twice"),
            )
        }
        9 => {
            let k = *rng.pick(&["node_count", "edge_count"]);
            let v = *rng.pick(&[
                "2147483648",
                "4294967295",
                "4294967296",
                "18446744073709551615",
                "18446744073709551616",
                "0",
                "1",
                "-1",
                "1e9",
            ]);
            let pat = format!("\"{k}\":");
            let at = find(text, pat.as_bytes()).unwrap() + pat.len();
            let len = text[at..].iter().take_while(|b| b.is_ascii_digit()).count();
            (
                splice(text, at, len, v.as_bytes()),
                format!("{k} set to {v}"),
            )
        }
        10 => {
            // A type name added, and some records using it or a number past the list.
            let (list, k) = *rng.pick(&[
                ("\"node_types\":[[", "nodes"),
                ("\"edge_types\":[[", "edges"),
            ]);
            let start = find(text, list.as_bytes()).unwrap() + list.len();
            // First (every type number shifts) or last (one new number) in the list.
            let with_name = if rng.below(2) == 0 {
                splice(text, start, 0, b"\"a future type\",")
            } else {
                let end = start + find(&text[start..], b"]").unwrap();
                splice(text, end, 0, b",\"a future type\"")
            };
            let (n, len) = number_at(&with_name, sections(&with_name)[k], rng);
            let v = *rng.pick(&["0", "16", "17", "18", "99", "4294967295"]);
            (
                splice(&with_name, n, len, v.as_bytes()),
                format!("a type added to {k}; a number set to {v}"),
            )
        }
        11 => {
            let (list, to) = *rng.pick(&[
                ("\"node_types\":[[", "\"node_types\":[[],["),
                ("\"edge_types\":[[", "\"edge_types\":[[],["),
                ("\"node_types\":[[", "\"node_types\":[[7,"),
                ("\"edge_types\":[[", "\"edge_types\":[[null,"),
            ]);
            let at = find(text, list.as_bytes()).unwrap();
            (
                splice(text, at, list.len(), to.as_bytes()),
                format!("{list} became {to}"),
            )
        }
        12 => {
            // Bad UTF-8, control characters and escapes inside a string.
            let k = *rng.pick(&["strings", "snapshot"]);
            let (s, e) = sec(k);
            let quotes: Vec<usize> = (s..e).filter(|&j| text[j] == b'"').collect();
            let at = *rng.pick(&quotes) + 1;
            let junk = *rng.pick::<&[u8]>(&[
                &b"\xff"[..],
                b"\xc3",
                b"\xed\xa0\x80",
                b"\x01",
                b"\n",
                b"\\q",
                b"\\u12G4",
                b"\\u00e9",
                b"\\\\",
                b"\\ud83d\\ude00",
                b"\\ud800",
                b"caf\xc3\xa9",
            ]);
            (
                splice(text, at, 0, junk),
                format!("{junk:?} inserted at {at}"),
            )
        }
        13 | 14 => {
            let k = *rng.pick(&["nodes", "edges", "locations"]);
            let (n, len) = number_at(text, sec(k), rng);
            let v = *rng.pick(&[
                "-1",
                "-0",
                "1.5",
                "1e3",
                "NaN",
                "Infinity",
                "4294967296",
                "18446744073709551615",
                "99999999999999999999",
                "007",
                "0",
                "1 2",
                "1,,2",
                "",
                "true",
                "\"1\"",
            ]);
            (
                splice(text, n, len, v.as_bytes()),
                format!("a number in {k} set to {v}"),
            )
        }
        15 => {
            let tail = *rng.pick::<&[u8]>(&[
                &b"\n"[..],
                b" \r\n\t",
                b"x",
                b",",
                b"}",
                b"\0",
                b"{}",
                b"\xef\xbb\xbf",
            ]);
            ([text, tail].concat(), format!("{tail:?} appended"))
        }
        16 => ([text, text].concat(), "two snapshots in one file".into()),
        17 => (gzip(text), "gzip".into()),
        18 => {
            let mut gz = gzip(text);
            let at = rng.below(gz.len());
            gz[at] ^= 1 << rng.below(8);
            (gz, format!("gzip with byte {at} flipped"))
        }
        19 => {
            let mut gz = gzip(text);
            let from_end = 1 + rng.below(8);
            let at = gz.len() - from_end;
            gz[at] ^= 0x40;
            (gz, format!("gzip trailer byte -{from_end} flipped"))
        }
        20 => {
            let gz = gzip(text);
            let at = rng.below(gz.len());
            (gz[..at].to_vec(), format!("gzip truncated at {at}"))
        }
        21 => {
            let (a, b) = text.split_at(rng.below(text.len()));
            match rng.below(3) {
                0 => ([gzip(a), gzip(b)].concat(), "gzip in two members".into()),
                1 => (
                    [gzip(text), gzip(text)].concat(),
                    "two gzip snapshots".into(),
                ),
                _ => (
                    [gzip(text), b"trailing".to_vec()].concat(),
                    "gzip then garbage".into(),
                ),
            }
        }
        22 => {
            let depth = 1 + rng.below(200_000);
            let (s, _) = sec("trace_tree");
            let at = s + "\"trace_tree\":".len();
            let balanced = rng.below(2) == 0;
            let nest = format!(
                "{}{}",
                "[".repeat(depth),
                if balanced {
                    "]".repeat(depth)
                } else {
                    String::new()
                }
            );
            (
                splice(text, at, 2, nest.as_bytes()),
                format!("trace_tree nested {depth} deep, balanced: {balanced}"),
            )
        }
        _ => {
            // A string's content changed (valid), or a key removed or renamed.
            match rng.below(3) {
                0 => {
                    let (s, e) = sec("strings");
                    let letters: Vec<usize> =
                        (s..e).filter(|&j| text[j].is_ascii_lowercase()).collect();
                    let at = *rng.pick(&letters);
                    (
                        splice(text, at, 1, b"Z"),
                        format!("letter at {at} in strings changed"),
                    )
                }
                _ => {
                    let k = *rng.pick(&any_section);
                    let pat = format!("\"{k}\":");
                    let at = find(text, pat.as_bytes()).unwrap();
                    (splice(text, at + 1, 0, b"x"), format!("key {k} renamed"))
                }
            }
        }
    }
}

// --- The check ----------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    mutants: usize,
    runs: usize,
    by_verdict: BTreeMap<String, usize>,
    by_code: BTreeMap<String, usize>,
    max_rss_kb: i64,
    /// The run that used the most memory.
    max_rss_run: String,
    failures: Vec<String>,
}

/// Runs mutant `i` through every command; records what went wrong.
fn check_mutant(l: &Ladder, i: usize, dir: &Path, tally: &Mutex<Tally>) {
    let mut rng = Rng((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let k = i % 3;
    let (bytes, what, known) = mutate(&l.texts[k], i, &mut rng);
    let verdict = known.unwrap_or_else(|| oracle(&bytes));
    let file = dir.join(format!("m{i}-s{}.heapsnapshot", k + 1));
    std::fs::write(&file, &bytes).unwrap();
    let f = file.display().to_string();
    let s = l.files.clone().map(|p| p.display().to_string());
    let mut ladder = s.clone();
    ladder[k] = f.clone();
    let id = l.id.to_string();
    let runs: Vec<Vec<String>> = vec![
        vec!["summary".into(), f.clone()],
        vec![
            "retainers".into(),
            f.clone(),
            "--class".into(),
            l.class.clone(),
        ],
        vec!["retainers".into(), f.clone(), "--id".into(), id],
        if k == 0 {
            vec!["diff".into(), f.clone(), s[2].clone()]
        } else {
            vec!["diff".into(), s[0].clone(), f.clone()]
        },
        [vec!["leaks".to_string()], ladder.to_vec()].concat(),
    ];
    let mut problems = Vec::new();
    let mut max_rss = (0, String::new());
    let mut codes = Vec::new();
    for args in &runs {
        let o = run_limited(args, None, &file);
        if o.max_rss_kb > max_rss.0 {
            max_rss = (o.max_rss_kb, format!("mutant {i} ({what}), {}", args[0]));
        }
        if std::env::var_os("LEAKHUNT_MUTANTS_VERBOSE").is_some() {
            eprintln!(
                "mutant {i} ({what}; {verdict:?}) {}: {:?} {}",
                args[0],
                o.code,
                o.stderr.trim_end()
            );
        }
        let lines: Vec<&str> = o.stderr.trim_end().lines().collect();
        let code = o
            .code
            .map_or_else(|| format!("signal {:?}", o.signal), |c| c.to_string());
        codes.push(code.clone());
        let mut fault = |why: String| problems.push(format!("{} → {why}", args[..1].join(" ")));
        if o.hung {
            fault("hung (killed after the deadline)".into());
            continue;
        }
        match o.code {
            None => fault(format!("killed by signal {:?}: {}", o.signal, o.stderr)),
            Some(101) => fault(format!("panicked: {}", o.stderr)),
            Some(c) => {
                if lines.len() > 1 || (c != 0 && c != 1 && lines.len() != 1) {
                    fault(format!("stderr is not one line: {:?}", o.stderr));
                }
                match verdict {
                    Verdict::Invalid if c != 2 => {
                        fault(format!("exit {c} on a bad snapshot"));
                    }
                    Verdict::Invalid if !lines.first().is_some_and(|l| l.contains(&f)) => {
                        fault(format!(
                            "the message does not name the file: {:?}",
                            o.stderr
                        ));
                    }
                    Verdict::Valid | Verdict::Undecided if c == 2 => {
                        // A valid file may lack the class or id asked for, or the mutant
                        // may no longer look like the same process: one line naming a file.
                        let named = lines
                            .first()
                            .is_some_and(|l| l.contains(&f) || s.iter().any(|x| l.contains(x)));
                        if verdict == Verdict::Valid && !named {
                            fault(format!("exit 2 on a valid snapshot: {:?}", o.stderr));
                        }
                    }
                    _ if c > 2 => fault(format!("exit {c}")),
                    _ => {}
                }
            }
        }
    }
    let _ = std::fs::remove_file(&file);
    let mut t = tally.lock().unwrap();
    t.mutants += 1;
    t.runs += runs.len();
    *t.by_verdict.entry(format!("{verdict:?}")).or_default() += 1;
    for c in codes {
        *t.by_code.entry(format!("{verdict:?} → {c}")).or_default() += 1;
    }
    if max_rss.0 > t.max_rss_kb {
        (t.max_rss_kb, t.max_rss_run) = max_rss;
    }
    for p in problems {
        t.failures
            .push(format!("mutant {i} ({what}; {verdict:?}): {p}"));
    }
}

/// Runs mutants `0..count` on as many threads as the machine has cores (plus one: a run
/// spends part of its time starting up), and fails with every problem found.
fn run_mutants(count: usize) -> Tally {
    let l = ladder();
    let dir = tempfile::tempdir().unwrap();
    let tally = Mutex::new(Tally::default());
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                check_mutant(&l, i, dir.path(), &tally);
            });
        }
    });
    let t = tally.into_inner().unwrap();
    eprintln!(
        "{} mutants, {} runs; verdicts {:?}; outcomes {:?}; peak RSS of any run {} KiB ({})",
        t.mutants, t.runs, t.by_verdict, t.by_code, t.max_rss_kb, t.max_rss_run
    );
    t
}

fn assert_clean(t: &Tally) {
    let input_mb = 5; // each snapshot of the ladder is 4–5 MB
    assert!(
        t.max_rss_kb < 1024 * 60 * input_mb,
        "a run used {} KiB",
        t.max_rss_kb
    );
    assert!(
        t.failures.is_empty(),
        "{} problems:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}

#[test]
fn mutated_snapshots_through_every_command() {
    let t = run_mutants(KINDS * 12);
    // Both kinds must be well represented, or the oracle (or the mutations) went wrong.
    assert!(
        t.by_verdict.get("Valid").copied().unwrap_or(0) >= 20,
        "{:?}",
        t.by_verdict
    );
    assert!(
        t.by_verdict.get("Invalid").copied().unwrap_or(0) >= 150,
        "{:?}",
        t.by_verdict
    );
    assert_clean(&t);
}

/// `LEAKHUNT_MUTANTS=N` mutants (default 10,000): the issue's acceptance run.
#[test]
#[ignore = "long: run with LEAKHUNT_MUTANTS=N and --run-ignored"]
fn many_mutants() {
    let count = std::env::var("LEAKHUNT_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    assert_clean(&run_mutants(count));
}

// --- The faults the issue names, one by one ------------------------------------------------

fn one_line_naming(o: &Outcome, file: &str, words: &[&str]) {
    let lines: Vec<&str> = o.stderr.trim_end().lines().collect();
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert_eq!(lines.len(), 1, "one line: {}", o.stderr);
    assert!(lines[0].contains(file), "names {file}: {}", o.stderr);
    for w in words {
        assert!(lines[0].contains(w), "mentions {w:?}: {}", o.stderr);
    }
}

/// A small file whose header claims 2^31 nodes and 2^32 - 1 edges (6 × 8 GiB of columns if
/// believed), as a plain file, gzip, and on standard input: refused within a memory limit
/// far below that, using memory in proportion to the file.
#[test]
fn a_hostile_header_is_refused_in_memory_bounded_by_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = br#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["synthetic","object"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"]]},"node_count":2147483648,"edge_count":4294967295},"nodes":[0,0,1,0,0,1,1,3,16,0],"edges":[],"strings":["","A"]}"#;
    let plain = dir.path().join("hostile.heapsnapshot");
    std::fs::write(&plain, text).unwrap();
    let gz = dir.path().join("hostile.heapsnapshot.gz");
    std::fs::write(&gz, gzip(text)).unwrap();
    for (file, stdin) in [(&plain, None), (&gz, None), (&plain, Some(&plain))] {
        let name = if stdin.is_some() {
            "-".to_string()
        } else {
            file.display().to_string()
        };
        let o = run_limited(
            &["summary".to_string(), name.clone()],
            stdin.map(|p| p.as_path()),
            &dir.path().join("run"),
        );
        one_line_naming(&o, &name, &["truncated", "'nodes' has 10 values"]);
        // A run of leakhunt itself takes about 15 MiB; 1 Mi records reserved for a stream
        // of unknown length add at most 28 MiB.
        assert!(o.max_rss_kb < 64 * 1024, "{name}: {} KiB", o.max_rss_kb);
    }
}

/// Edges before nodes (and strings first) read as the usual order does; this panicked.
#[test]
fn sections_in_another_order_give_the_same_answers() {
    let l = ladder();
    let text = String::from_utf8(l.texts[2].clone()).unwrap();
    let secs = sections(text.as_bytes());
    let part = |k: &str| &text[secs[k].0..secs[k].1];
    let reordered = format!(
        "{{{},{},{},{},{}}}",
        part("strings"),
        part("snapshot"),
        part("edges"),
        part("locations"),
        part("nodes")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reordered.heapsnapshot");
    std::fs::write(&file, reordered).unwrap();
    let original = path_str(&l.files[2]);
    for args in [
        vec!["summary", "--json"],
        vec!["retainers", "--class", "UserProfile", "--json"],
    ] {
        let run = |f: &str| {
            let mut a = args.clone();
            a.insert(1, f);
            let mut v = leakhunt_json(&a);
            v.as_object_mut().unwrap().remove("file");
            v
        };
        assert_eq!(run(original), run(path_str(&file)), "{args:?}");
    }
    let out = leakhunt(&[
        "leaks",
        path_str(&l.files[0]),
        path_str(&l.files[1]),
        path_str(&file),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
