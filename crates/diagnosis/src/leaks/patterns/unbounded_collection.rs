//! `unbounded-collection`: a Map, Set, Array or dictionary object whose entries only grow.
//!
//! Caches and registries keyed per request or user gain an entry per key and, without
//! eviction, never lose one. The objects that grow sit directly under the collection (through
//! its internal storage: a Map's hash table, an array's elements, a dictionary's properties).
//! (A collection growing without new objects of its own is [`super::growing_collection`].)

use leakhunt_findings::Explanation;

use super::suspect_facts::{NodeKind, SuspectFacts};
use super::{Finding, Pattern};

pub const COLLECTION_CLASSES: [&str; 5] = ["Map", "Set", "Array", "WeakMap", "Object"];
/// The calls that add to a collection, to find the line that grows it.
pub const GROW_METHODS: [&str; 5] = ["set", "push", "add", "unshift", "splice"];

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    // The first holder above the object that is not storage must be a collection (a plain
    // object only when it is used as a dictionary).
    let (index, holder) = f.holders().find(|(_, h)| h.kind != NodeKind::Storage)?;
    let is_collection = COLLECTION_CLASSES.contains(&holder.class)
        && (holder.class != "Object" || f.is_dictionary(index));
    if !is_collection {
        return None;
    }
    Some(finding(f, index, Some(f.object().class.to_string()), None))
}

/// The collection at `index` on the path, growing; `value_class` and `entries_now` as
/// [`Explanation::UnboundedCollection`] says.
pub fn finding(
    f: &SuspectFacts,
    index: usize,
    value_class: Option<String>,
    entries_now: Option<u64>,
) -> Finding {
    let location = f
        .growth_site(index, &GROW_METHODS)
        .or_else(|| f.closure_above().cloned());
    // Closures kept in the collection: what their scopes hold is what they keep.
    let mut captured = f.scope_capture().map(|s| s.captured).unwrap_or_default();
    captured.truncate(3);
    Finding {
        pattern: Pattern::UnboundedCollection,
        location,
        owner: f.owner(index),
        captured,
        explanation: Explanation::UnboundedCollection {
            collection_class: f.nodes[index].class.to_string(),
            value_class,
            entries_now,
        },
    }
}

#[cfg(test)]
mod tests {
    use leakhunt_engine::{EdgeType, NodeType};
    use leakhunt_findings::OwnerKind;

    use super::*;
    use crate::leaks::patterns::testing::Builder;

    #[test]
    fn fires_for_entries_of_a_module_map() {
        let mut h = Builder::new();
        let map = h.var("userCache", NodeType::Object, "Map", 40);
        let table = h.node(NodeType::Array, "", 64);
        let v = h.node(NodeType::Object, "UserProfile", 200);
        h.edge(map, EdgeType::Internal, "table", table);
        h.edge(table, EdgeType::Internal, "3", v);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), v, map)).expect("an unbounded collection");
        let owner = f.owner.unwrap();
        assert_eq!(
            (owner.kind, owner.path.as_str()),
            (OwnerKind::ClosureVariable, "userCache")
        );
    }

    #[test]
    fn closures_kept_in_an_array_name_what_they_capture() {
        let mut h = Builder::new();
        let retries = h.var("pendingRetries", NodeType::Object, "Array", 32);
        let retry = h.node(NodeType::Closure, "", 32);
        let scope = h.node(NodeType::Object, "system / Context", 40);
        let block = h.node(NodeType::Object, "Buffer", 32_768);
        h.edge(retries, EdgeType::Element, "0", retry);
        h.edge(retry, EdgeType::Internal, "context", scope);
        h.edge(scope, EdgeType::Context, "block", block);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), retry, retries)).expect("a collection");
        assert_eq!(f.captured.len(), 1);
        assert_eq!(
            (f.captured[0].name.as_str(), f.captured[0].bytes),
            ("block", 32_768)
        );
    }

    #[test]
    fn a_static_field_is_named_by_its_class() {
        let mut h = Builder::new();
        let class = h.var("Connection", NodeType::Closure, "Connection", 32);
        let all = h.node(NodeType::Object, "Set", 40);
        let table = h.node(NodeType::Array, "", 64);
        let c = h.node(NodeType::Object, "Connection", 80);
        h.edge(class, EdgeType::Property, "all", all);
        h.edge(all, EdgeType::Internal, "table", table);
        h.edge(table, EdgeType::Internal, "3", c);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), c, all)).expect("an unbounded collection");
        let owner = f.owner.unwrap();
        assert_eq!(
            (owner.kind, owner.path.as_str()),
            (OwnerKind::ClosureVariable, "Connection.all")
        );
    }

    #[test]
    fn a_static_field_of_a_class_held_by_a_property_is_named_by_its_class() {
        let mut h = Builder::new();
        let models = h.var("models", NodeType::Object, "Object", 40);
        let class = h.node(NodeType::Closure, "Connection", 32);
        let all = h.node(NodeType::Object, "Set", 40);
        let table = h.node(NodeType::Array, "", 64);
        let c = h.node(NodeType::Object, "Connection", 80);
        h.edge(models, EdgeType::Property, "Connection", class);
        h.edge(class, EdgeType::Property, "all", all);
        h.edge(all, EdgeType::Internal, "table", table);
        h.edge(table, EdgeType::Internal, "3", c);
        let heap = h.build();
        let f = check(&heap.facts(&heap.locator(), c, all)).expect("an unbounded collection");
        let owner = f.owner.unwrap();
        assert_eq!(
            (owner.kind, owner.path.as_str()),
            (OwnerKind::Property, "Connection.all")
        );
    }

    #[test]
    fn quiet_for_an_object_held_by_a_plain_property() {
        let mut h = Builder::new();
        let app = h.var("app", NodeType::Object, "App", 40);
        let config = h.node(NodeType::Object, "Config", 200);
        h.edge(app, EdgeType::Property, "config", config);
        let heap = h.build();
        assert!(check(&heap.facts(&heap.locator(), config, app)).is_none());
    }
}
