//! One snapshot, class by class: DevTools' Summary view.

use serde::{Deserialize, Serialize};

/// The whole heap's numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub nodes: u64,
    pub edges: u64,
    /// Every object's own size plus V8's unattributed native bytes: DevTools' total.
    pub total_size: u64,
    /// Own sizes of the objects reachable from the GC roots through references that retain.
    pub reachable_size: u64,
}

/// One class of objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRow {
    pub class: String,
    pub count: u64,
    pub shallow_size: u64,
    /// Bytes freed if every object of the class went away.
    pub retained_size: u64,
    /// Fewest references from the GC roots to any of its objects; `None` when none is reachable.
    pub min_distance: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryReport {
    #[serde(default = "crate::schema_version")]
    pub schema_version: u32,
    pub file: String,
    pub totals: Totals,
    /// Largest retained size first (or as sorted on request).
    pub classes: Vec<ClassRow>,
}
