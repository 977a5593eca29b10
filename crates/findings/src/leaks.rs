//! The leak diagnosis over a ladder of snapshots.

use serde::{Deserialize, Serialize};

use crate::{HeapObject, RetainerPath, SourceLocation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Leak,
    Clean,
}

/// Which way a suspect is held, in terms a Node.js engineer acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    EventListener,
    Timer,
    ClosureCapture,
    UnboundedCollection,
    RetainedRequest,
    PendingPromise,
    Other,
}

impl Pattern {
    pub const ALL: [Pattern; 7] = [
        Pattern::EventListener,
        Pattern::Timer,
        Pattern::ClosureCapture,
        Pattern::UnboundedCollection,
        Pattern::RetainedRequest,
        Pattern::PendingPromise,
        Pattern::Other,
    ];

    /// The identifier used in JSON, SARIF rule ids and the terminal: `event-listener`.
    pub fn id(self) -> &'static str {
        match self {
            Pattern::EventListener => "event-listener",
            Pattern::Timer => "timer",
            Pattern::ClosureCapture => "closure-capture",
            Pattern::UnboundedCollection => "unbounded-collection",
            Pattern::RetainedRequest => "retained-request",
            Pattern::PendingPromise => "pending-promise",
            Pattern::Other => "other",
        }
    }
}

/// What a suspect's `count_per_step` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CountUnit {
    /// Leaked objects (each counted once, at the top of what it holds).
    #[default]
    Objects,
    /// A collection's entries.
    Entries,
    /// An array of plain numbers' storage slots (V8 keeps the numbers inside the array).
    Slots,
    /// Appends to a string (`s += …`): the pieces of its chain of concatenations.
    Appends,
    /// Bytes of a string that grows (flattened by V8, so its appends no longer show):
    /// `count_per_step` repeats `bytes_per_step`.
    Bytes,
}

/// How the program reaches the thing that grows (a collection, an emitter): by the name a
/// person would write in code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub kind: OwnerKind,
    /// The module's file, for module variables and exports (display path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The name in code: `userCache`, `channels.news`, `exports.memo`, `Connection.all`,
    /// `process`.
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerKind {
    /// A variable of a module's top-level scope (`module` names the file).
    ModuleVariable,
    /// A variable of a function's scope (a factory's, a handler's); `module` names the file
    /// when known.
    ClosureVariable,
    /// A property of a CommonJS module's `exports` (`module` names the file).
    ModuleExport,
    /// A property of an object or a class (a static field): `QueryCache.entries`.
    Property,
    /// Node's one `process` object.
    Process,
}

/// A variable captured by a closure, and the bytes behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    pub name: String,
    pub bytes: u64,
}

/// The facts an explanation and a fix are made of, per pattern. The printer words them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Explanation {
    /// Listeners added to an emitter and never removed. The emitter is the suspect's `owner`.
    EventListener {
        /// `EventEmitter`, `AbortSignal`, `WebSocket`, `process` …
        emitter_class: String,
        /// The event name, when the path shows it (one of them, when names grow).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event: Option<String>,
        /// Each listener comes with an event name of its own (`'user:' + id`): the emitter's
        /// `_events` gains names, not listeners per name.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        event_names_grow: bool,
        /// The listener's name (a named function, or the variable it was assigned to), when
        /// it has one: the program can pass it back to remove it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handler: Option<String>,
        /// The call that removes one listener, written with the program's names:
        /// `bus.off('message', onMessage)` (`listener` standing for an unnamed handler),
        /// when the emitter's name and the event are known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        removal: Option<String>,
    },
    /// Timers started and never cleared.
    Timer {
        /// Node files timers by their duration; the list's duration when the path shows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u32>,
        /// `true` for `setInterval`, `false` for a one-shot `setTimeout` (Node's `_repeat`);
        /// `None` when the snapshot does not show a timer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repeats: Option<bool>,
        /// The timers' durations differ (backoff, jitter), so each has a timer list of its
        /// own in Node's timer map and queue: the lists are what accumulates.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        one_list_per_duration: bool,
    },
    /// Kept closures whose scope holds most of what they retain (the suspect's `captured`).
    ClosureCapture {
        /// The function's name; `None` for an anonymous function.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        function: Option<String>,
    },
    /// A collection that only gains entries. It is the suspect's `owner`.
    UnboundedCollection {
        /// `Map`, `Set`, `Array`, `Object` (a dictionary) …
        collection_class: String,
        /// The class of the entries' values, when the suspect counts them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_class: Option<String>,
        /// Entries (or slots) in the last snapshot, when the collection itself is measured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entries_now: Option<u64>,
    },
    /// Request, response or socket objects kept after their requests ended.
    RetainedRequest {
        /// The class of what keeps them when it has no name (`Array`, `Map`).
        holder_class: String,
        /// When the objects kept are the program's records holding a request object
        /// (`{ res, timer }`): which property holds which.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record: Option<RequestInRecord>,
    },
    /// Async functions suspended at an `await` of a promise that never settles. The promise
    /// is the suspect's `owner`.
    PendingPromise {
        /// The suspended functions, most calls first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        functions: Vec<SuspendedFunction>,
    },
    /// A string that only grows by `+=`. The variable is the suspect's `owner`.
    GrowingString,
    /// Handlers a library keeps in a list (HTTP client interceptors, a router's middleware,
    /// hooks), added per request and never removed: closures, or records of closures. The
    /// list is the suspect's `owner`; the pattern is `event-listener`.
    HandlerList {
        /// The class of the library object that keeps the list (`InterceptorManager`).
        holder_class: String,
        /// The class of the records the handlers sit in (`Layer`, `Object`), when the list
        /// holds records rather than bare functions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record_class: Option<String>,
        /// Methods that take an entry back out, found on the objects on the way
        /// (`InterceptorManager.eject`); empty when the library has none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removal: Vec<String>,
        /// The call that adds an entry, as the program makes it (`flags.subscribe`), when
        /// the library's code for it returns a function that takes the entry back out:
        /// the undo the program drops.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        returned_removal: Option<String>,
    },
    /// A collection that a library (or Node itself) keeps and fills on each call the program
    /// makes: a metrics registry, rooms, a query cache, Node's list of enabled
    /// AsyncLocalStorage instances. It is the suspect's `owner`; the pattern is
    /// `unbounded-collection`.
    LibraryCollection {
        /// `Map`, `Set`, `Array`, `Object` (a dictionary) …
        collection_class: String,
        /// The class of the entries' values.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_class: Option<String>,
        /// The class of the library object that keeps the collection; `None` when it is a
        /// variable of Node's own code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder_class: Option<String>,
        /// Methods that take an entry back out, as in `HandlerList`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removal: Vec<String>,
        /// The program's variable that holds the library object, shared by every request
        /// (`queryClient`), when the path goes through one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shared_by: Option<String>,
        /// Whether the values are instances of a class defined in code (a library's or
        /// Node's), which the program could create once and reuse, rather than built-ins.
        #[serde(default)]
        values_have_class: bool,
        /// As in `HandlerList`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        returned_removal: Option<String>,
        /// The collection is keyed by data (a dictionary object's property names, a Map's
        /// string keys) and its values are plain records or strings: it gains a key per
        /// distinct value the program passes (a label value per user id), inside one
        /// long-lived object.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        keys_grow: bool,
    },
    /// None of the patterns: the first holder on the path.
    Other {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder_class: Option<String>,
    },
}

/// An async function with calls suspended at an `await`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspendedFunction {
    /// Its name; `None` for an anonymous function.
    #[serde(default)]
    pub function: Option<String>,
    /// The `await` it waits at (read from its source), else the function itself.
    #[serde(default)]
    pub waits_at: Option<SourceLocation>,
    /// Its calls suspended there, in the last snapshot.
    pub suspended: u64,
}

/// A request, response or socket object in a property of the program's own record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestInRecord {
    /// `res`
    pub property: String,
    /// `ServerResponse`
    pub class: String,
}

/// One snapshot of the ladder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub file: String,
    pub nodes: u64,
    pub total_size: u64,
    pub reachable_size: u64,
}

/// Something that grows at every step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suspect {
    pub pattern: Pattern,
    /// Class of the objects that accumulate (the top of each leaked structure).
    pub class: String,
    /// Objects (or entries, or slots) added per step, on average.
    pub count_per_step: f64,
    #[serde(default)]
    pub count_unit: CountUnit,
    /// Retained bytes added per step, on average.
    pub bytes_per_step: f64,
    /// Bytes these objects retain in the last snapshot.
    pub retained_bytes: u64,
    /// The measure in each snapshot, first to last.
    pub count_by_snapshot: Vec<u64>,
    pub bytes_by_snapshot: Vec<u64>,
    /// The code to change: for a listener its own position, for a collection the line that
    /// grows it. `null` when not known.
    #[serde(default)]
    pub location: Option<SourceLocation>,
    /// What holds the growth (the collection, the emitter), by name; `null` when it has none.
    #[serde(default)]
    pub owner: Option<Owner>,
    /// For closures: the captured variables holding the most bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captured: Vec<Captured>,
    /// A collection gaining one entry per iteration while the scenario gives every
    /// iteration a new `{{seq}}` value: growth such keys make by design (`hunt` only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub one_entry_per_new_key: bool,
    pub explanation: Explanation,
    /// One representative object's shortest path from the GC roots.
    pub path: RetainerPath,
    /// Where the leaked objects were allocated, by call stack, most objects first (at most
    /// three). Empty when the snapshots carry no allocation stacks (taken without
    /// allocation tracking).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocation_stacks: Vec<AllocationStack>,
    /// When the objects are created or stored inside a library (`node_modules`): that
    /// library's code; `location` is then the app's line that calls it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library_location: Option<SourceLocation>,
}

/// One call stack that allocated leaked objects (V8's allocation tracking), and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationStack {
    /// Leaked objects allocated under this stack, in the last snapshot.
    pub count: u64,
    /// The bytes they retain.
    pub bytes: u64,
    /// Innermost first: the function that allocated, then its callers. Each frame is the
    /// function's own position (V8 records functions, not call sites), through source maps.
    pub frames: Vec<SourceLocation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeakReport {
    #[serde(default = "crate::schema_version")]
    pub schema_version: u32,
    pub verdict: Verdict,
    pub snapshots: Vec<SnapshotInfo>,
    /// Steps between snapshots (snapshots − 1).
    pub steps: usize,
    /// Largest growth per step first.
    pub suspects: Vec<Suspect>,
    /// The last snapshot carried allocation stacks (taken with allocation tracking on).
    /// Not part of the JSON: each suspect's `allocation_stacks` says what they showed.
    #[serde(skip)]
    pub allocation_stacks_recorded: bool,
    /// What the reader should know about how places were found (a source map found but
    /// empty, or without a mapping for a position), one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// ArrayBuffer backing stores (the bytes of Buffers, typed arrays and ArrayBuffers,
    /// outside the JS heap) new since the first snapshot and still alive in the last, by what
    /// holds them; largest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_memory: Vec<NativeHolder>,
}

/// What holds backing stores that are new since the first snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeHolder {
    /// The nearest object above the Buffers (or typed arrays, or ArrayBuffers) that is none
    /// of them: the array, Map or object they are kept in.
    pub holder: HeapObject,
    /// The variable or property that holds it (`uploads`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_as: Option<String>,
    /// New backing stores under it, and their bytes.
    pub count: u64,
    pub bytes: u64,
}

impl LeakReport {
    pub fn new(snapshots: Vec<SnapshotInfo>, suspects: Vec<Suspect>) -> LeakReport {
        LeakReport {
            schema_version: crate::SCHEMA_VERSION,
            verdict: if suspects.is_empty() {
                Verdict::Clean
            } else {
                Verdict::Leak
            },
            steps: snapshots.len().saturating_sub(1),
            snapshots,
            suspects,
            allocation_stacks_recorded: false,
            notes: Vec::new(),
            native_memory: Vec::new(),
        }
    }
}
