//! Comparison of two snapshots of one process, with Chrome DevTools' rules: within each
//! class, objects are matched by node id; an id only in the newer snapshot is *new*, only in
//! the older one *deleted*; objects in both are not counted, even if their size changed.
//! Sizes are shallow (self) sizes after DevTools' folding. On top of DevTools' columns, the
//! change in each class's retained size.

use std::collections::HashMap;

use serde::Serialize;

use crate::objects::SnapshotObjects;

pub use leakhunt_findings::ClassDiff;

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Objects (of non-zero size) present in both snapshots.
    pub common_objects: u64,
    pub total_size_before: u64,
    pub total_size_after: u64,
    /// Classes with any new or deleted object, largest size delta first.
    pub classes: Vec<ClassDiff>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("the snapshots share no object ids: they do not come from one process (node ids are only stable within a process)")]
    NoSharedIds,
    #[error("the snapshots do not come from one process: {differing} of {shared} sampled ids they share name different objects (node ids are only stable within a process)")]
    DifferentProcesses { shared: u64, differing: u64 },
}

/// Compares `before` with `after` (the DevTools Comparison view of `after` against `before`).
pub fn compare(before: &SnapshotObjects, after: &SnapshotObjects) -> Result<Comparison, DiffError> {
    // One class numbering for both: the newer snapshot's, extended by names only the older has.
    let mut names: Vec<String> = after.class_names.clone();
    let mut index: HashMap<String, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i as u32))
        .collect();
    let before_to_unified: Vec<u32> = before
        .class_names
        .iter()
        .map(|n| {
            *index.entry(n.clone()).or_insert_with(|| {
                names.push(n.clone());
                (names.len() - 1) as u32
            })
        })
        .collect();
    let mut rows: Vec<ClassDiff> = names
        .iter()
        .map(|n| ClassDiff {
            class: n.clone(),
            ..Default::default()
        })
        .collect();

    let agreement = before.fingerprints.agreement(&after.fingerprints);
    if !agreement.is_one_process() {
        return Err(DiffError::DifferentProcesses {
            shared: agreement.shared,
            differing: agreement.differing,
        });
    }
    let (mut i, mut j) = (0, 0);
    let (a, b) = (&before.objects, &after.objects);
    let (mut shared, mut class_changed) = (0u64, 0u64);
    let deleted = |row: &mut ClassDiff, size: u64| {
        row.deleted_count += 1;
        row.freed_size += size;
    };
    while i < a.len() || j < b.len() {
        let ida = a.get(i).map_or(u32::MAX, |o| o.0);
        let idb = b.get(j).map_or(u32::MAX, |o| o.0);
        if i < a.len() && (j == b.len() || ida < idb) {
            deleted(
                &mut rows[before_to_unified[a[i].1 as usize] as usize],
                a[i].2,
            );
            i += 1;
        } else if j < b.len() && (i == a.len() || idb < ida) {
            let row = &mut rows[b[j].1 as usize];
            row.new_count += 1;
            row.alloc_size += b[j].2;
            j += 1;
        } else {
            shared += 1;
            let (ca, cb) = (before_to_unified[a[i].1 as usize], b[j].1);
            if ca != cb {
                // DevTools matches within a class: a changed class is deleted here, new there.
                class_changed += 1;
                deleted(&mut rows[ca as usize], a[i].2);
                rows[cb as usize].new_count += 1;
                rows[cb as usize].alloc_size += b[j].2;
            }
            i += 1;
            j += 1;
        }
    }
    if shared == 0 {
        return Err(DiffError::NoSharedIds);
    }
    for (c, &r) in after.class_retained.iter().enumerate() {
        rows[c].retained_size_after = r;
    }
    for (c, &r) in before.class_retained.iter().enumerate() {
        rows[before_to_unified[c] as usize].retained_size_before = r;
    }
    for row in &mut rows {
        row.delta_count = row.new_count as i64 - row.deleted_count as i64;
        row.size_delta = row.alloc_size as i64 - row.freed_size as i64;
        row.retained_size_delta = row.retained_size_after as i64 - row.retained_size_before as i64;
    }
    rows.retain(|r| r.new_count > 0 || r.deleted_count > 0);
    rows.sort_by(|x, y| {
        y.size_delta
            .cmp(&x.size_delta)
            .then_with(|| x.class.cmp(&y.class))
    });
    Ok(Comparison {
        common_objects: shared - class_changed,
        total_size_before: before.total_size,
        total_size_after: after.total_size,
        classes: rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhunt_engine::{Analysis, AnalysisOptions, EdgeType, GraphBuilder, NodeType};

    /// A global holding `objects` as (class, id, size).
    fn snapshot(objects: &[(&str, u32, u64)]) -> SnapshotObjects {
        let mut b = GraphBuilder::new();
        let global = b.node_with_id(NodeType::Object, "global", 10, 3);
        b.edge(b.root(), EdgeType::Shortcut, "global", global);
        for (i, &(class, id, size)) in objects.iter().enumerate() {
            let n = b.node_with_id(NodeType::Object, class, size, id);
            b.edge(global, EdgeType::Property, &format!("p{i}"), n);
        }
        SnapshotObjects::from_analysis(&Analysis::new(b.build(), &AnalysisOptions::default()))
    }

    fn row<'a>(c: &'a Comparison, class: &str) -> &'a ClassDiff {
        c.classes.iter().find(|r| r.class == class).unwrap()
    }

    #[test]
    fn matches_objects_by_id_within_a_class() {
        let before = snapshot(&[("User", 11, 40), ("User", 13, 40), ("Order", 15, 100)]);
        let after = snapshot(&[
            ("User", 13, 48),
            ("User", 17, 40),
            ("User", 19, 40),
            ("Order", 15, 100),
        ]);
        let c = compare(&before, &after).unwrap();
        let user = row(&c, "User");
        assert_eq!(
            (user.new_count, user.deleted_count, user.delta_count),
            (2, 1, 1)
        );
        assert_eq!(
            (user.alloc_size, user.freed_size, user.size_delta),
            (80, 40, 40)
        );
        assert_eq!(
            user.retained_size_delta,
            48 + 80 - 80,
            "the survivor grew by 8 bytes"
        );
        assert!(
            c.classes.iter().all(|r| r.class != "Order"),
            "unchanged classes are left out"
        );
        assert_eq!(c.classes[0].class, "User", "largest size delta first");
    }

    #[test]
    fn an_object_whose_class_changed_counts_in_both_rows() {
        let before = snapshot(&[("A", 11, 10), ("B", 13, 10), ("B", 15, 10)]);
        let after = snapshot(&[("C", 11, 10), ("B", 13, 10), ("B", 15, 10)]);
        let c = compare(&before, &after).unwrap();
        assert_eq!(row(&c, "A").deleted_count, 1);
        assert_eq!(row(&c, "C").new_count, 1);
    }

    #[test]
    fn refuses_snapshots_of_different_processes() {
        // Same ids and the same class, as two Node processes booting alike, but the strings
        // they name hold different text.
        let strings = |text: &str| {
            let mut b = GraphBuilder::new();
            for i in 0..100u32 {
                let n = b.node_with_id(NodeType::String, &format!("{text} {i}"), 32, 11 + 2 * i);
                b.edge(b.root(), EdgeType::Element, &i.to_string(), n);
            }
            SnapshotObjects::from_analysis(&Analysis::new(b.build(), &AnalysisOptions::default()))
        };
        assert!(compare(&strings("order"), &strings("order")).is_ok());
        assert!(matches!(
            compare(&strings("order"), &strings("session")),
            Err(DiffError::DifferentProcesses { .. })
        ));
    }
}
