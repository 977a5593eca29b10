//! The `snapshot` header: how many nodes and edges follow and which field sits where.
//!
//! Field order differs between runtimes (Node 20 writes 7 node fields with `trace_node_id`
//! and `detachedness`, Node 24 writes 6), so every position is looked up by name here and
//! nothing else in the reader assumes an order.

use serde::Deserialize;

use crate::error::{ErrorKind, Result};
use crate::graph::{EdgeType, NodeType};

#[derive(Deserialize)]
struct RawHeader {
    meta: RawMeta,
    node_count: u64,
    edge_count: u64,
    #[serde(default)]
    extra_native_bytes: u64,
}

#[derive(Deserialize)]
struct RawMeta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
    #[serde(default)]
    location_fields: Vec<String>,
    #[serde(default)]
    trace_function_info_fields: Vec<String>,
    #[serde(default)]
    trace_node_fields: Vec<String>,
}

/// What one value of a node record means to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeField {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
    /// The allocation stack's node in `trace_tree` (0: not tracked).
    TraceNodeId,
    Ignored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeField {
    Type,
    NameOrIndex,
    ToNode,
    Ignored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocationField {
    ObjectIndex,
    ScriptId,
    Line,
    Column,
    Ignored,
}

#[derive(Debug)]
pub(crate) struct Layout {
    pub extra_native_bytes: u64,
    pub node_count: u64,
    pub edge_count: u64,
    pub node_fields: Vec<NodeField>,
    pub edge_fields: Vec<EdgeField>,
    pub location_fields: Vec<LocationField>,
    /// `meta.trace_function_info_fields` and `meta.trace_node_fields`, by name.
    pub trace_function_fields: Vec<String>,
    pub trace_node_fields: Vec<String>,
    /// Snapshot type number → our `NodeType` (names we do not know → `Unknown`).
    pub node_type_map: Vec<NodeType>,
    /// Snapshot edge type number → our `EdgeType`.
    pub edge_type_map: Vec<EdgeType>,
}

impl Layout {
    pub fn node_stride(&self) -> usize {
        self.node_fields.len()
    }

    /// Parses the raw text of the `snapshot` value.
    pub(crate) fn from_header_json(raw: &[u8]) -> Result<Layout> {
        let header: RawHeader = serde_json::from_slice(raw).map_err(|e| {
            ErrorKind::NotHeapSnapshot(format!("its 'snapshot' header is not V8's ({e})"))
        })?;
        let meta = header.meta;
        let node_fields = map_fields(&meta.node_fields, |f| match f {
            "type" => NodeField::Type,
            "name" => NodeField::Name,
            "id" => NodeField::Id,
            "self_size" => NodeField::SelfSize,
            "edge_count" => NodeField::EdgeCount,
            "trace_node_id" => NodeField::TraceNodeId,
            _ => NodeField::Ignored,
        });
        for (need, what) in [
            (NodeField::Type, "type"),
            (NodeField::Name, "name"),
            (NodeField::Id, "id"),
            (NodeField::SelfSize, "self_size"),
            (NodeField::EdgeCount, "edge_count"),
        ] {
            require(&node_fields, need, "node_fields", what, &meta.node_fields)?;
        }
        let edge_fields = map_fields(&meta.edge_fields, |f| match f {
            "type" => EdgeField::Type,
            "name_or_index" => EdgeField::NameOrIndex,
            "to_node" => EdgeField::ToNode,
            _ => EdgeField::Ignored,
        });
        for (need, what) in [
            (EdgeField::Type, "type"),
            (EdgeField::NameOrIndex, "name_or_index"),
            (EdgeField::ToNode, "to_node"),
        ] {
            require(&edge_fields, need, "edge_fields", what, &meta.edge_fields)?;
        }
        let location_fields = map_fields(&meta.location_fields, |f| match f {
            "object_index" => LocationField::ObjectIndex,
            "script_id" => LocationField::ScriptId,
            "line" => LocationField::Line,
            "column" => LocationField::Column,
            _ => LocationField::Ignored,
        });
        if !location_fields.is_empty() {
            for (need, what) in [
                (LocationField::ObjectIndex, "object_index"),
                (LocationField::ScriptId, "script_id"),
                (LocationField::Line, "line"),
                (LocationField::Column, "column"),
            ] {
                require(
                    &location_fields,
                    need,
                    "location_fields",
                    what,
                    &meta.location_fields,
                )?;
            }
        }
        let node_type_map = type_names(&meta.node_types, "node_types")?
            .iter()
            .map(|n| NodeType::from_v8_name(n))
            .collect();
        let edge_type_map = type_names(&meta.edge_types, "edge_types")?
            .iter()
            .map(|n| EdgeType::from_v8_name(n))
            .collect();
        Ok(Layout {
            extra_native_bytes: header.extra_native_bytes,
            node_count: header.node_count,
            edge_count: header.edge_count,
            node_fields,
            edge_fields,
            location_fields,
            trace_function_fields: meta.trace_function_info_fields,
            trace_node_fields: meta.trace_node_fields,
            node_type_map,
            edge_type_map,
        })
    }
}

fn map_fields<T>(names: &[String], f: impl Fn(&str) -> T) -> Vec<T> {
    names.iter().map(|n| f(n)).collect()
}

fn require<T: PartialEq>(
    fields: &[T],
    need: T,
    list: &str,
    what: &str,
    names: &[String],
) -> Result<()> {
    if fields.iter().filter(|f| **f == need).count() == 1 {
        Ok(())
    } else {
        Err(ErrorKind::UnknownLayout(format!(
            "meta.{list} must name '{what}' once, but it is {names:?}"
        ))
        .into())
    }
}

/// `node_types[0]` / `edge_types[0]`: the list of type names, which the type numbers in
/// the records index. An empty list or one with anything but names cannot describe a
/// record, so it is refused rather than guessed at.
fn type_names(types: &[serde_json::Value], list: &str) -> Result<Vec<String>> {
    let bad = |why: &str| -> crate::error::SnapshotError {
        ErrorKind::UnknownLayout(format!("meta.{list}[0] {why}")).into()
    };
    let names = types
        .first()
        .and_then(|v| v.as_array())
        .ok_or_else(|| bad("is not a list of type names"))?;
    if names.is_empty() {
        return Err(bad("is empty: it names no types"));
    }
    names
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("has {} at position {i}, not a type name", kind(v))))
        })
        .collect()
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}
