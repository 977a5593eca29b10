//! Whether two snapshots come from one process.
//!
//! Ids alone cannot tell: every Node process boots the same way and V8 hands ids out from the
//! same counter, so two processes share most ids (measured: 95% of a small program's ids). But
//! within one process an id always names the same object, whose type and name (a string's
//! text, a function's name, a constructor's name) do not change, while across processes the
//! same id names whatever that heap happened to hold there.
//!
//! Measured on Node 20 (ladders of eleven programs, written by `v8.writeHeapSnapshot` and over
//! the inspector): within one process no shared id changed type or name. Across two runs of
//! the same deterministic program 7–10% did; across programs that do I/O or differ, 70–90%.
//!
//! So each snapshot keeps, for a fixed sample of ids, a fingerprint of the object's type and
//! name, and two snapshots are from one process when nearly all sampled ids they share agree.

use leakhunt_engine::graph::{HeapGraph, NodeIndex};

use crate::hash::{hash_str, mix};

/// One id in this many is sampled (chosen by a hash of the id, so both snapshots sample the
/// same ids); small graphs keep every id so that their verdict rests on enough objects.
const SAMPLE_ONE_IN: u32 = 16;
const KEEP_ALL_BELOW: usize = 1 << 16;

/// Fewer shared sampled ids than this are too few to judge (tiny hand-built graphs): they
/// count as one process.
const MIN_EVIDENCE: u64 = 32;

/// Sampled (id, fingerprint) pairs of one snapshot, sorted by id. 8 bytes per sampled object.
#[derive(Debug, Clone, Default)]
pub struct Fingerprints {
    sampled: Vec<(u32, u32)>,
}

/// How two snapshots' sampled objects compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Sampled ids present in both.
    pub shared: u64,
    /// Shared ids whose objects differ in type or name.
    pub differing: u64,
}

impl Agreement {
    /// Within one process a shared id names the same object. Up to 2% may differ (room for
    /// objects V8 might retag in place, though none was seen to); two runs of even a
    /// deterministic program differ in more.
    pub fn is_one_process(&self) -> bool {
        self.shared < MIN_EVIDENCE || self.differing * 50 <= self.shared
    }
}

impl Fingerprints {
    pub fn of(g: &HeapGraph) -> Fingerprints {
        let keep_all = g.node_count() < KEEP_ALL_BELOW;
        let mut sampled: Vec<(u32, u32)> = (0..g.node_count() as NodeIndex)
            .filter(|&n| keep_all || is_sampled(g.node_id(n)))
            .map(|n| (g.node_id(n), fingerprint(g, n)))
            .collect();
        sampled.sort_unstable_by_key(|s| s.0);
        Fingerprints { sampled }
    }

    /// Compares the objects sampled in both (an id sampled in only one is skipped: the other
    /// kept all of its ids or none).
    pub fn agreement(&self, other: &Fingerprints) -> Agreement {
        let (a, b) = (&self.sampled, &other.sampled);
        let (mut i, mut j) = (0, 0);
        let mut agreement = Agreement {
            shared: 0,
            differing: 0,
        };
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    agreement.shared += 1;
                    agreement.differing += u64::from(a[i].1 != b[j].1);
                    i += 1;
                    j += 1;
                }
            }
        }
        agreement
    }
}

fn is_sampled(id: u32) -> bool {
    // Fibonacci hashing: ids go up in steps of 2, so take the product's high bits.
    id.wrapping_mul(0x9e37_79b1) < u32::MAX / SAMPLE_ONE_IN
}

fn fingerprint(g: &HeapGraph, n: NodeIndex) -> u32 {
    let name = g.node_name(n);
    // Long strings: their length and ends are fingerprint enough and keep this cheap.
    let name_hash = if name.len() <= 64 {
        hash_str(name)
    } else {
        let (start, end) = (floor_char(name, 32), ceil_char(name, name.len() - 32));
        mix(
            mix(hash_str(&name[..start]), hash_str(&name[end..])),
            name.len() as u64,
        )
    };
    let h = mix(name_hash, g.node_type(n) as u64);
    (h ^ (h >> 32)) as u32
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_engine::{EdgeType, GraphBuilder, NodeType};

    /// A graph of `names` as objects with ids 3, 5, 7, …
    fn graph(names: &[String]) -> HeapGraph {
        let mut b = GraphBuilder::new();
        for (i, name) in names.iter().enumerate() {
            let n = b.node_with_id(NodeType::Object, name, 16, 3 + 2 * i as u32);
            b.edge(b.root(), EdgeType::Element, &i.to_string(), n);
        }
        b.build()
    }

    fn names(prefix: &str, count: usize) -> Vec<String> {
        (0..count).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn one_process_agrees_even_after_some_objects_change() {
        let before = names("Obj", 200);
        let mut after = before.clone();
        after[7] = "Changed".into();
        let a = Fingerprints::of(&graph(&before)).agreement(&Fingerprints::of(&graph(&after)));
        assert_eq!(a.differing, 1);
        assert!(a.is_one_process(), "{a:?}");
    }

    #[test]
    fn two_processes_disagree_on_what_their_shared_ids_name() {
        // Both boot alike; the rest is each run's own (a tenth of the ids: two runs of one
        // deterministic program; two thirds: programs that differ).
        for booted_alike in [180, 70] {
            let mut before = names("Boot", booted_alike);
            before.extend(names("Alpha", 200 - booted_alike));
            let mut after = names("Boot", booted_alike);
            after.extend(names("Beta", 200 - booted_alike));
            let a = Fingerprints::of(&graph(&before)).agreement(&Fingerprints::of(&graph(&after)));
            assert!(!a.is_one_process(), "{a:?}");
        }
    }

    #[test]
    fn large_graphs_sample_the_same_ids_on_both_sides() {
        let many = names("Obj", KEEP_ALL_BELOW + 1000);
        let f = Fingerprints::of(&graph(&many));
        let share = f.sampled.len() as f64 / many.len() as f64;
        assert!((0.04..0.09).contains(&share), "sampled {share}");
        let mut other = many.clone();
        other.truncate(KEEP_ALL_BELOW + 10);
        let a = f.agreement(&Fingerprints::of(&graph(&other)));
        assert!(a.shared > 1000 && a.differing == 0, "{a:?}");
    }
}
