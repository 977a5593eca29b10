//! `unbounded-collection`: a Map, Set, Array or dictionary object that only grows.
//!
//! Caches and registries keyed per request or user gain an entry per key and, without
//! eviction, never lose one. The objects that grow sit directly under the collection (through
//! its internal storage: a Map's hash table, an array's elements, a dictionary's properties).

use leakhunt_engine::fold::is_storage;

use leakhunt_findings::Explanation;

use super::{Context, Finding, Pattern};

const COLLECTION_CLASSES: [&str; 5] = ["Map", "Set", "Array", "WeakMap", "Object"];
const GROW_METHODS: [&str; 5] = ["set", "push", "add", "unshift", "splice"];

/// Whether V8 probably keeps `h` as a dictionary: it switches an object to dictionary mode
/// beyond a few dozen added properties or after deletes, and its keys are then data (user
/// ids, request ids), not structure. The snapshot shows that as many property edges.
fn is_dictionary_holder(g: &leakhunt_engine::HeapGraph, h: leakhunt_engine::NodeIndex) -> bool {
    const DICTIONARY_KEYS: usize = 32;
    g.edges_of(h)
        .filter(|&e| g.edge_type(e) == leakhunt_engine::EdgeType::Property)
        .take(DICTIONARY_KEYS)
        .count()
        >= DICTIONARY_KEYS
}

/// Position in `holders` of the first collection above the object (skipping storage).
fn collection_index(ctx: &Context) -> Option<usize> {
    let g = &ctx.a.graph;
    let (i, &(_, h)) = ctx
        .holders
        .iter()
        .enumerate()
        .find(|&(_, &(_, h))| !is_storage(g, h))?;
    let class = ctx.class_of(h);
    let is_collection =
        COLLECTION_CLASSES.contains(&class) && (class != "Object" || is_dictionary_holder(g, h));
    is_collection.then_some(i)
}

/// The collection at `index` on the path; `value_class` and `entries_now` as
/// [`Explanation::UnboundedCollection`] says.
fn finding(
    ctx: &Context,
    index: usize,
    value_class: Option<String>,
    entries_now: Option<u64>,
) -> Finding {
    let location = ctx
        .growth_site(index, &GROW_METHODS)
        .or_else(|| ctx.closure_above().and_then(|c| ctx.user_location(c)));
    Finding {
        pattern: Pattern::UnboundedCollection,
        location,
        owner: ctx.owner(index),
        captured: Vec::new(),
        explanation: Explanation::UnboundedCollection {
            collection_class: ctx.class_of(ctx.holders[index].1).to_string(),
            value_class,
            entries_now,
        },
    }
}

/// Objects growing under a collection.
pub fn check(ctx: &Context) -> Option<Finding> {
    let index = collection_index(ctx)?;
    let class = ctx.class_of(ctx.object).to_string();
    Some(finding(ctx, index, Some(class), None))
}

/// A collection that grows with no new objects under it (numbers, shared values).
pub fn for_collection(ctx: &Context) -> Finding {
    // The suspect's object is the collection itself: describe it from its own holder.
    let inner = ctx.object_as_holder();
    let now = inner.growth.series.counts.last().copied().unwrap_or(0);
    finding(&inner, 0, None, Some(now))
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
        let f = check(&heap.context(&heap.locator(), v, map)).expect("an unbounded collection");
        let owner = f.owner.unwrap();
        assert_eq!(
            (owner.kind, owner.path.as_str()),
            (OwnerKind::ClosureVariable, "userCache")
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
        let f = check(&heap.context(&heap.locator(), c, all)).expect("an unbounded collection");
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
        let f = check(&heap.context(&heap.locator(), c, all)).expect("an unbounded collection");
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
        assert!(check(&heap.context(&heap.locator(), config, app)).is_none());
    }
}
