//! Grouping nodes into classes, the rows of a summary.
//!
//! Objects and native nodes group by constructor name (what V8 puts in the node's name);
//! other kinds get one bucket each, named the way Chrome DevTools names them: `(closure)`,
//! `(array)`, `(string)`, `(system)`, `(compiled code)` …
//!
//! Two DevTools refinements are deliberately left out, so that a class means the same thing
//! in every snapshot of a process: DevTools splits plain `Object`s by their property names
//! (`{id, name}`) and same-named constructors by source location.

use std::collections::HashMap;

use crate::graph::{HeapGraph, NodeIndex, NodeType};

/// Dense class number, `0..Classes::len()`.
pub type ClassId = u32;

const UNASSIGNED: u32 = u32::MAX;

pub struct Classes {
    names: Vec<String>,
    /// Object/native name string index → class (sized to the string table).
    by_name: Vec<ClassId>,
    /// Every other node type → class.
    by_type: [ClassId; 17],
}

/// The bucket name of a node type that is not grouped by constructor.
pub fn type_class_name(t: NodeType) -> &'static str {
    match t {
        NodeType::Hidden => "(system)",
        NodeType::Array => "(array)",
        NodeType::String => "(string)",
        NodeType::ConsString => "(concatenated string)",
        NodeType::SlicedString => "(sliced string)",
        NodeType::Code => "(compiled code)",
        NodeType::Closure => "(closure)",
        NodeType::RegExp => "RegExp",
        NodeType::Number => "(number)",
        NodeType::Synthetic => "(synthetic)",
        NodeType::Symbol => "(symbol)",
        NodeType::BigInt => "(bigint)",
        NodeType::ObjectShape => "(object shape)",
        NodeType::WasmObject => "(wasm object)",
        NodeType::Unknown => "(unknown)",
        NodeType::Object | NodeType::Native => "(object)",
    }
}

/// DOM wrapper names carry attributes (`<div id="x">`); the class is just the tag.
fn constructor_class_name(raw: &str) -> &str {
    let cut_from = if raw.starts_with('<') {
        0
    } else if raw.starts_with("Detached <") {
        10
    } else {
        return raw;
    };
    match raw[cut_from..].find(' ') {
        Some(i) => &raw[..cut_from + i],
        None => raw,
    }
}

impl Classes {
    pub fn new(g: &HeapGraph) -> Classes {
        let mut c = Classes {
            names: Vec::new(),
            by_name: vec![UNASSIGNED; g.strings().len()],
            by_type: [UNASSIGNED; 17],
        };
        let mut ids: HashMap<String, ClassId> = HashMap::new();
        let mut intern = |names: &mut Vec<String>, name: String| -> ClassId {
            *ids.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                (names.len() - 1) as ClassId
            })
        };
        for n in 0..g.node_count() as NodeIndex {
            let t = g.node_type(n);
            match t {
                NodeType::Object | NodeType::Native => {
                    let s = g.node_name_index(n);
                    if c.by_name[s as usize] == UNASSIGNED {
                        let raw = g.string(s);
                        let mut name = constructor_class_name(raw).to_string();
                        if (name.starts_with('<') || name.starts_with("Detached <"))
                            && (name.contains(' ') || !name.ends_with('>'))
                        {
                            name.push('>');
                        }
                        c.by_name[s as usize] = intern(&mut c.names, name);
                    }
                }
                _ => {
                    if c.by_type[t as usize] == UNASSIGNED {
                        c.by_type[t as usize] = intern(&mut c.names, type_class_name(t).into());
                    }
                }
            }
        }
        c
    }

    #[inline]
    pub fn class_of(&self, g: &HeapGraph, n: NodeIndex) -> ClassId {
        let t = g.node_type(n);
        match t {
            NodeType::Object | NodeType::Native => self.by_name[g.node_name_index(n) as usize],
            _ => self.by_type[t as usize],
        }
    }

    pub fn name(&self, c: ClassId) -> &str {
        &self.names[c as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The class with this exact name.
    pub fn find(&self, name: &str) -> Option<ClassId> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| i as ClassId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_names_keep_only_the_tag() {
        assert_eq!(constructor_class_name("<div id=\"a\">"), "<div");
        assert_eq!(
            constructor_class_name("Detached <li class=\"x\">"),
            "Detached <li"
        );
        assert_eq!(constructor_class_name("Planted"), "Planted");
    }
}
