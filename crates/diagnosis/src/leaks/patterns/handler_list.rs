//! Growth a library (or Node itself) keeps for the program: handler lists filled per request
//! (an HTTP client's interceptors, a router's middleware, hooks) and a library's own
//! collections that gain an entry per call (a metrics registry, rooms, a query cache, Node's
//! list of enabled AsyncLocalStorage instances).
//!
//! The collection is the library's: its own code grows it (the `.push(`/`.set(` is in a file
//! under `node_modules`), or it is a variable of Node's code, which no program can reach.
//! The program cannot bound it; the fix is in how the program calls the library. When the
//! entries are functions, or records whose own properties hold functions, the entries are
//! handlers: the listener family, located at the handler (the program's line that registers
//! it) and fixed by registering once or removing it. Otherwise the fix is taking entries back
//! out with the library's own removal methods (found on the prototypes on the path), creating
//! the object once, or giving each request its own instance of the library object the
//! program shares.

use leakhunt_findings::Explanation;

use super::suspect_facts::{Keeper, NodeKind, SuspectFacts};
use super::unbounded_collection::{COLLECTION_CLASSES, GROW_METHODS};
use super::{Finding, Pattern};

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    // The first holder above the object that is not storage is the collection, as for
    // `unbounded-collection`.
    let (index, holder) = f.holders().find(|(_, h)| h.kind != NodeKind::Storage)?;
    if !COLLECTION_CLASSES.contains(&holder.class)
        || (holder.class == "Object" && !f.is_dictionary(index))
    {
        return None;
    }
    let keeper = f.keeper(index)?;
    let library_line = f.growth_site(index, &GROW_METHODS);
    let keeper_name = match &keeper {
        Keeper::Library(name) => Some(name.clone()),
        Keeper::Runtime => None,
    };
    let holder_removal = match keeper {
        Keeper::Library(ref name) => f.removal_methods(index + 1, name),
        Keeper::Runtime => Vec::new(),
    };
    if let Some((handler_at, in_record)) = f.handler(library_line.as_ref().map(|l| l.file.as_str()))
    {
        return Some(Finding {
            pattern: Pattern::EventListener,
            // The handler's own position is the program's line that registers it (allocation
            // stacks add the library's line that stores it beside it).
            location: Some(handler_at),
            owner: f.owner(index),
            captured: Vec::new(),
            explanation: Explanation::HandlerList {
                holder_class: keeper_name.unwrap_or_else(|| "Node".into()),
                record_class: in_record.then(|| f.object().class.to_string()),
                removal: holder_removal,
            },
        });
    }
    // The program's variable that shares the library object across requests, and what
    // takes entries back out: on that object first (what the program calls), then on the
    // collection's keeper, then on the values themselves.
    let shared = f.program_variable_above(index + 1);
    let mut removal = shared
        .as_ref()
        .map(|(j, name)| f.removal_methods(*j, name))
        .unwrap_or_default();
    if removal.is_empty() {
        removal = holder_removal;
    }
    if removal.is_empty() && f.has_class_code(0) {
        removal = f.removal_methods(0, f.object().class);
    }
    Some(Finding {
        pattern: Pattern::UnboundedCollection,
        location: library_line.or_else(|| f.closure_above().cloned()),
        owner: f.owner(index),
        captured: Vec::new(),
        explanation: Explanation::LibraryCollection {
            collection_class: holder.class.to_string(),
            value_class: Some(f.object().class.to_string()),
            holder_class: keeper_name,
            removal,
            shared_by: shared.map(|(_, name)| name),
            values_have_class: f.has_class_code(0),
        },
    })
}
