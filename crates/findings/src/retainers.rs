//! Why particular objects are alive.

use serde::{Deserialize, Serialize};

use crate::{HeapObject, RetainerPath};

/// An object with its sizes and the paths that keep it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetainedObject {
    #[serde(flatten)]
    pub object: HeapObject,
    pub self_size: u64,
    pub retained_size: u64,
    /// References from the GC roots on its shortest path; `None` when unreachable.
    pub distance: Option<u32>,
    /// Shortest first; each through a different direct holder.
    pub paths: Vec<RetainerPath>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetainersReport {
    #[serde(default = "crate::schema_version")]
    pub schema_version: u32,
    pub file: String,
    pub targets: Vec<RetainedObject>,
}
