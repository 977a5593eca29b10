//! The mutations: mutant `i` of a snapshot, from a seed, so every run sees the same ones.

use std::collections::BTreeMap;
use std::io::Write;

use super::*;

/// xorshift64*: deterministic, so every run of the suite sees the same mutants.
pub(super) struct Rng(pub(super) u64);

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
pub(super) fn sections(text: &[u8]) -> BTreeMap<String, (usize, usize)> {
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

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn splice(text: &[u8], at: usize, remove: usize, insert: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + insert.len());
    out.extend_from_slice(&text[..at]);
    out.extend_from_slice(insert);
    out.extend_from_slice(&text[(at + remove).min(text.len())..]);
    out
}

pub(super) fn gzip(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text).unwrap();
    gz.finish().unwrap()
}

/// The positions of numbers inside a section (start of each run of digits).
pub(super) fn number_at(
    text: &[u8],
    (start, end): (usize, usize),
    rng: &mut Rng,
) -> (usize, usize) {
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

pub(super) const KINDS: usize = 24;

/// Mutant `i` of `text`, a short description of what was done and, for mutations whose
/// validity is known by construction where the oracle cannot judge it, that verdict.
pub(super) fn mutate(text: &[u8], i: usize, rng: &mut Rng) -> (Vec<u8>, String, Option<Verdict>) {
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

pub(super) fn mutate_text(text: &[u8], i: usize, rng: &mut Rng) -> (Vec<u8>, String) {
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
