//! Why an object is alive: the references from the GC roots down to it.

use serde::{Deserialize, Serialize};

use crate::SourceLocation;

/// How a holder refers to the next object, as V8's heap snapshots type their edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// A variable of a scope, captured by a closure.
    Context,
    /// An array element or indexed slot; the edge's name is the index.
    Element,
    /// A named property.
    Property,
    /// One of V8's internal slots, not visible to JavaScript.
    Internal,
    /// An internal indexed slot; the edge's name is the index.
    Hidden,
    /// A shortcut V8 adds for readability (`global`).
    Shortcut,
    /// A weak reference (does not keep anything alive).
    Weak,
    Unknown,
}

/// An object of the heap, as a person recognises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapObject {
    /// The snapshot's node id, the `@id` DevTools shows (stable within one process).
    pub id: u32,
    /// Its class as the Summary view groups it (`Session`, `(closure)`, `(string)`, `Array`).
    pub class: String,
    /// What tells it apart within its class, when anything does: a function's name, the
    /// start of a string's text, an internal array's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where its code is (a function's position, an object's constructor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

/// One reference on a path: `holder` refers to the object below it through `edge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    /// The property or variable name, or the index (as text) for elements and hidden slots.
    pub edge: String,
    pub edge_type: EdgeKind,
    pub holder_id: u32,
    pub holder_class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl PathStep {
    /// The holder as an object.
    pub fn holder(&self) -> HeapObject {
        HeapObject {
            id: self.holder_id,
            class: self.holder_class.clone(),
            name: self.holder_name.clone(),
            location: self.location.clone(),
        }
    }
}

/// A chain of references keeping `object` alive: `steps[0]` holds the object, each next step
/// holds the previous holder, and the last step's holder is held by the GC roots. Every step
/// is kept (a timer list can be hundreds of hops long); folding repeated hops is the
/// printer's business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainerPath {
    pub object: HeapObject,
    pub steps: Vec<PathStep>,
}
