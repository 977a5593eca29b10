//! Source positions as people read them: in the original source when a script has a source
//! map, and with paths relative to a root folder (the current directory, or the service's)
//! when inside it. Rules work with the absolute paths of the JavaScript that runs (they read
//! it); only what is shown goes through here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use leakhunt_engine::{NodeIndex, SourceLocation};

use super::report::CodeLocation;
use crate::source_map::SourceMaps;

pub struct Positions {
    maps: RefCell<SourceMaps>,
    root: Option<PathBuf>,
    /// Scope (context node) → the file of a function that uses it.
    scope_files: RefCell<HashMap<NodeIndex, Option<String>>>,
}

impl Positions {
    /// `root` defaults to the current directory.
    pub fn new(maps: SourceMaps, root: Option<PathBuf>) -> Positions {
        Positions {
            maps: RefCell::new(maps),
            root: root.or_else(|| std::env::current_dir().ok()),
            scope_files: RefCell::default(),
        }
    }

    /// A script path as a person would type it: relative to the root when inside it,
    /// `file://` URLs as paths.
    pub fn display_file(&self, file: &str) -> String {
        let path = file.strip_prefix("file://").unwrap_or(file);
        if let Some(root) = &self.root {
            if let Ok(rel) = Path::new(path).strip_prefix(root) {
                return rel.display().to_string();
            }
        }
        path.to_string()
    }

    /// The location in the source a person wrote, through the script's source map if it has
    /// one, with its path for display.
    pub fn display(&self, loc: CodeLocation) -> CodeLocation {
        let mapped = self
            .maps
            .borrow_mut()
            .original(&loc.file, loc.line, loc.column);
        match mapped {
            Some(p) => CodeLocation {
                file: self.display_file(&p.file),
                line: p.line,
                column: p.column,
                function: loc.function.or(p.name),
            },
            None => CodeLocation {
                file: self.display_file(&loc.file),
                ..loc
            },
        }
    }

    /// The file of the scope `context`, found by `find` the first time it is asked for.
    pub fn scope_file(
        &self,
        context: NodeIndex,
        find: impl FnOnce() -> Option<String>,
    ) -> Option<String> {
        if let Some(known) = self.scope_files.borrow().get(&context) {
            return known.clone();
        }
        let file = find();
        self.scope_files.borrow_mut().insert(context, file.clone());
        file
    }

    /// `file:line:column` of a snapshot location, for display.
    pub fn display_position(&self, l: &SourceLocation) -> String {
        let c = self.display(CodeLocation {
            file: l.file.clone(),
            line: l.line,
            column: l.column,
            function: None,
        });
        format!("{}:{}:{}", c.file, c.line, c.column)
    }
}
