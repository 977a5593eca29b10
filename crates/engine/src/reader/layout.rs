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
}

/// What one value of a node record means to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeField {
    Type,
    Name,
    Id,
    SelfSize,
    EdgeCount,
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
    /// Snapshot type number → our `NodeType` as u8.
    pub node_type_map: Vec<u8>,
    /// Snapshot edge type number → our `EdgeType` as u8.
    pub edge_type_map: Vec<u8>,
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
        let node_type_map = type_names(&meta.node_types, "node_types")?
            .iter()
            .map(|n| NodeType::from_v8_name(n) as u8)
            .collect();
        let edge_type_map = type_names(&meta.edge_types, "edge_types")?
            .iter()
            .map(|n| EdgeType::from_v8_name(n) as u8)
            .collect();
        Ok(Layout {
            extra_native_bytes: header.extra_native_bytes,
            node_count: header.node_count,
            edge_count: header.edge_count,
            node_fields,
            edge_fields,
            location_fields,
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

/// `node_types[0]` / `edge_types[0]`: the list of type names.
fn type_names(types: &[serde_json::Value], list: &str) -> Result<Vec<String>> {
    let names = types.first().and_then(|v| v.as_array()).ok_or_else(|| {
        ErrorKind::UnknownLayout(format!("meta.{list}[0] is not a list of type names"))
    })?;
    Ok(names
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect())
}
