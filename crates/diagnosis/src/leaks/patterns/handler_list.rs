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
//! program shares. When the library's function that adds an entry returns its own undo
//! (`subscribe` returning `unsubscribe`), that call is named: the program gets the undo back
//! and drops it. A collection keyed by data (label values per user) grows by its keys: the
//! fix bounds what the program passes.

use leakhunt_findings::Explanation;

use super::suspect_facts::{is_library_file, Keeper, NodeKind, SuspectFacts};
use super::unbounded_collection::{COLLECTION_CLASSES, GROW_METHODS};
use super::{Finding, Pattern};

pub fn check(f: &SuspectFacts) -> Option<Finding> {
    // The collection: the first holder above the object that is not storage, as for
    // `unbounded-collection`; or, when what grows is the list's entries (the suspect is the
    // collection itself), the object. One leak comes out either way depending on how many
    // new objects the snapshots show under the list; both read the same from here on.
    let (index, holder) = if f.is_collection {
        (0, f.object())
    } else {
        f.holders().find(|(_, h)| h.kind != NodeKind::Storage)?
    };
    if !COLLECTION_CLASSES.contains(&holder.class)
        || (holder.class == "Object" && !f.is_dictionary(index))
    {
        return None;
    }
    let keeper = f.keeper(index)?;
    let entry = f.entry()?;
    let library_line = f.growth_site(index, &GROW_METHODS);
    let keeper_name = match &keeper {
        Keeper::Library(name) => Some(name.clone()),
        Keeper::Runtime => None,
    };
    let holder_removal = match keeper {
        Keeper::Library(ref name) => f.removal_methods(index + 1, name),
        Keeper::Runtime => Vec::new(),
    };
    // The program's variable that shares the library object across requests.
    let shared = f.program_variable_above(index + 1);
    let returned_removal = library_line
        .as_ref()
        .and_then(|site| f.returned_removal(index, site, shared.as_ref().map(|v| v.name.as_str())));
    if let Some((handler_at, in_record)) =
        f.handler(&entry, library_line.as_ref().map(|l| l.file.as_str()))
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
                record_class: in_record.then(|| entry.class.to_string()),
                removal: holder_removal,
                returned_removal,
            },
        });
    }
    // What takes entries back out: on the shared object first (what the program calls),
    // then on the collection's keeper, then on the values themselves.
    let mut removal = shared
        .as_ref()
        .map(|v| f.removal_methods(v.at, &v.name))
        .unwrap_or_default();
    if removal.is_empty() {
        removal = holder_removal;
    }
    let values_have_class = f.has_class_code(&entry);
    if removal.is_empty() && values_have_class {
        removal = f.entry_removal_methods(&entry);
    }
    // The library's line that grows it; else where the program makes the object it shares
    // (its variable's declaration). A closure above on the path is only the program's place
    // when it is the program's own code: a library's function there (a render's
    // `createElement`) is how the search happened to reach the collection, not where it
    // grows.
    let location = library_line
        .or_else(|| shared.as_ref().and_then(|v| f.declaration(v)))
        .or_else(|| {
            f.closure_above()
                .filter(|l| !is_library_file(&l.file))
                .cloned()
        });
    Some(Finding {
        pattern: Pattern::UnboundedCollection,
        location,
        owner: f.owner(index),
        captured: Vec::new(),
        explanation: Explanation::LibraryCollection {
            collection_class: holder.class.to_string(),
            value_class: Some(entry.class.to_string()),
            holder_class: keeper_name,
            removal,
            shared_by: shared.map(|v| v.name),
            values_have_class,
            returned_removal,
            // A key per distinct value the program passes: records or strings under data
            // keys, not objects the program makes per call.
            keys_grow: !values_have_class && entry.is_data() && f.keyed_by_strings(index),
        },
    })
}

#[cfg(test)]
mod tests;
