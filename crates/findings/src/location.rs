//! One place in the program's source.

use serde::{Deserialize, Serialize};

/// A position in a source file, 1-based as editors show it. When the runtime reported a
/// source map for the script, this is the position in the original source (TypeScript, an
/// unbundled module), not in the JavaScript that ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceLocation {
    /// Path or URL of the file: relative to the current directory when inside it,
    /// `node:events` for the runtime's own modules.
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The function (for a closure) or the constructor (for an object), when it has a name
    /// (`null` otherwise).
    #[serde(default)]
    pub function: Option<String>,
}

impl SourceLocation {
    /// The runtime's own code (`node:internal/timers`, `internal/…`), which a user does not
    /// edit: reports point at the user's code first.
    pub fn is_runtime(&self) -> bool {
        self.file.is_empty() || self.file.starts_with("node:") || self.file.starts_with("internal/")
    }
}
