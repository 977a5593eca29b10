//! Short names for nodes and edges, as a person reads them in a retainer path:
//! `Planted @41729`, `(closure) handleMessage @301`, `[17]`, `.listeners`.

use crate::classes::Classes;
use crate::graph::{EdgeIndex, EdgeType, HeapGraph, NodeIndex, NodeType};

/// Longest string preview shown for string nodes.
const PREVIEW: usize = 40;

/// The node's class plus what distinguishes it: a function's name, a string's text, an
/// internal array's kind.
pub fn node_label(g: &HeapGraph, classes: &Classes, n: NodeIndex) -> String {
    let class = classes.name(classes.class_of(g, n));
    let name = g.node_name(n);
    match g.node_type(n) {
        NodeType::Closure => {
            if name.is_empty() {
                "(closure) (anonymous)".to_string()
            } else {
                format!("(closure) {name}")
            }
        }
        t if t.is_string() => format!("{class} {}", quote_preview(name)),
        NodeType::Array | NodeType::Hidden | NodeType::Code
            if !name.is_empty() && name != class =>
        {
            format!("{class} {name}")
        }
        NodeType::Synthetic => name.to_string(),
        _ => class.to_string(),
    }
}

/// `"text…"`, cut to a preview and with control characters escaped.
fn quote_preview(s: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == PREVIEW {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The edge as it would be written in code where possible: `.name`, `[3]`, `name` for a
/// closure variable; internal slots are marked, as they are not visible to JavaScript.
pub fn edge_label(g: &HeapGraph, e: EdgeIndex) -> String {
    let raw = g.edge_name_or_index(e);
    match g.edge_type(e) {
        EdgeType::Element => format!("[{raw}]"),
        EdgeType::Hidden => format!("[{raw}] (hidden)"),
        EdgeType::Property => {
            let name = g.string(raw);
            if is_identifier(name) {
                format!(".{name}")
            } else {
                format!("[{}]", quote_preview(name))
            }
        }
        EdgeType::Context => format!("{} (closure variable)", g.string(raw)),
        EdgeType::Internal => format!("{} (internal)", g.string(raw)),
        EdgeType::Shortcut => g.string(raw).to_string(),
        EdgeType::Weak => format!("{} (weak)", g.string(raw)),
        EdgeType::Unknown => g.string(raw).to_string(),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}
