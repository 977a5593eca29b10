//! WeakMap entries in V8 snapshots.
//!
//! V8 writes a WeakMap value as retained twice, by the key and by the table, with one
//! internal edge from each carrying the same description after a numeric prefix:
//! `"<n> / part of key (Foo @12) -> value (Bar @34) pair in WeakMap (table @56)"`.
//! The value lives as long as the key does, so for retention we follow the key's edge and
//! drop the table's (as DevTools does); for distances the pair counts once both are seen.

use crate::bitset::BitSet;
use crate::graph::{EdgeIndex, EdgeType, HeapGraph};

/// The parts of an ephemeron edge name we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EphemeronName<'a> {
    /// Everything after the leading number: identical on the key's and the table's edge.
    pub pair: &'a str,
    /// Node id of the WeakMap's backing table.
    pub table_id: u32,
}

/// Parses `"<digits> / part of key (…) -> value (…) pair in WeakMap (table @<id>)"`.
pub fn parse_ephemeron_name(name: &str) -> Option<EphemeronName<'_>> {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let pair = &name[digits..];
    let body = pair.strip_prefix(" / part of key (")?;
    let table = body.strip_suffix(')')?;
    let at = table.rfind(" pair in WeakMap (table @")?;
    if !table[..at].contains(") -> value (") {
        return None;
    }
    let id = &table[at + " pair in WeakMap (table @".len()..];
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(EphemeronName {
        pair,
        table_id: id.parse().ok()?,
    })
}

/// Which strings of a snapshot are ephemeron edge names: computed once so the hot loops over
/// edges test a bit instead of parsing.
pub struct EphemeronNames {
    is_ephemeron: BitSet,
}

impl EphemeronNames {
    pub fn new(g: &HeapGraph) -> EphemeronNames {
        let strings = g.strings();
        let mut is_ephemeron = BitSet::new(strings.len());
        for i in 0..strings.len() as u32 {
            let s = strings.get(i);
            // Cheap pre-check before the full parse: digits, then " / part of key (".
            if s.as_bytes().first().is_some_and(u8::is_ascii_digit)
                && s.contains(" / part of key (")
                && parse_ephemeron_name(s).is_some()
            {
                is_ephemeron.set(i);
            }
        }
        EphemeronNames { is_ephemeron }
    }

    /// The parsed name when `e` is an internal ephemeron edge.
    #[inline]
    pub fn of_edge<'g>(&self, g: &'g HeapGraph, e: EdgeIndex) -> Option<EphemeronName<'g>> {
        if g.edge_type(e) != EdgeType::Internal {
            return None;
        }
        let name = g.edge_name_or_index(e);
        if !self.is_ephemeron.get(name) {
            return None;
        }
        parse_ephemeron_name(g.string(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v8_ephemeron_names() {
        let n = parse_ephemeron_name(
            "3 / part of key (Key @81) -> value (Bar (x) @83) pair in WeakMap (table @85)",
        )
        .unwrap();
        assert_eq!(n.table_id, 85);
        assert!(n.pair.starts_with(" / part of key (Key @81)"));
    }

    #[test]
    fn rejects_other_names() {
        assert!(parse_ephemeron_name("map").is_none());
        assert!(parse_ephemeron_name("12 / part of key (a @1)").is_none());
        assert!(parse_ephemeron_name(
            " / part of key (K @1) -> value (V @2) pair in WeakMap (table @3)"
        )
        .is_none());
    }
}
