//! Two snapshots of one process: DevTools' Comparison view.

use serde::{Deserialize, Serialize};

/// One class's change between the two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassDiff {
    pub class: String,
    /// Objects only in the later snapshot.
    pub new_count: u64,
    /// Objects only in the earlier snapshot.
    pub deleted_count: u64,
    pub delta_count: i64,
    /// Own sizes of the new objects.
    pub alloc_size: u64,
    /// Own sizes of the deleted objects.
    pub freed_size: u64,
    pub size_delta: i64,
    pub retained_size_before: u64,
    pub retained_size_after: u64,
    pub retained_size_delta: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiffReport {
    #[serde(default = "crate::schema_version")]
    pub schema_version: u32,
    /// The earlier snapshot (the comparison's base, as DevTools calls it).
    pub base: String,
    pub after: String,
    /// Objects present in both.
    pub common_objects: u64,
    pub total_size_before: u64,
    pub total_size_after: u64,
    pub classes: Vec<ClassDiff>,
    /// With `--class`: that class's largest new objects, with why each is alive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_objects: Vec<crate::RetainedObject>,
}
