//! What each leak pattern means, in general: a title and a few sentences of help, for SARIF's
//! rules and the reports' legends. What one suspect does is `prose`'s business.

use leakhunt_findings::Pattern;

/// `Event listener never removed`.
pub fn title(p: Pattern) -> &'static str {
    match p {
        Pattern::EventListener => "Event listener never removed",
        Pattern::Timer => "Timer never cleared",
        Pattern::ClosureCapture => "Closure keeping more than it uses",
        Pattern::UnboundedCollection => "Collection that only grows",
        Pattern::RetainedRequest => "Requests kept after they ended",
        Pattern::PendingPromise => "Async calls waiting forever",
        Pattern::Other => "Objects that pile up",
    }
}

/// SARIF wants rule names in PascalCase: `EventListenerNeverRemoved`.
pub fn name(p: Pattern) -> String {
    title(p)
        .split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// What the pattern is, why it leaks, and the usual fix.
pub fn help(p: Pattern) -> &'static str {
    match p {
        Pattern::EventListener => {
            "A listener is added to a long-lived emitter (an EventEmitter, an EventTarget, \
             `process`) for each request, session or connection, and never removed. The emitter \
             keeps every listener, and each listener keeps everything its function captures. \
             Remove the listener when the work it belongs to ends (`off`/`removeListener`, \
             `removeEventListener`), or register it with `once` or an `AbortSignal`."
        }
        Pattern::Timer => {
            "A timer (`setInterval`, or a `setTimeout` that re-arms itself) is started for each \
             unit of work and never cleared. Node keeps every active timer and its callback, \
             and the callback keeps what it captures. Keep the handle and clear it when its \
             owner ends."
        }
        Pattern::ClosureCapture => {
            "Kept callbacks whose scope holds much more than the function itself: V8 keeps \
             every variable of a scope that any inner function uses, so one kept callback \
             retains them all. Capture only what the callback needs, and drop callbacks once \
             they have run."
        }
        Pattern::UnboundedCollection => {
            "A Map, Set, array or object used as a cache or registry gains entries with traffic \
             and never loses any, until the process runs out of memory. Bound it (an LRU, a time \
             to live), delete entries when their owner ends, or key it weakly (`WeakMap`)."
        }
        Pattern::RetainedRequest => {
            "Request, response or socket objects are stored after their requests ended; each \
             keeps its socket, headers, parser and buffers. Copy the few fields needed into a \
             plain object instead, and bound what stores them."
        }
        Pattern::PendingPromise => {
            "Async functions are called for each request and stop at an `await` of a promise \
             that never settles; each suspended call keeps its arguments and variables for as \
             long as the promise lives. Settle the promise (or reject it on failure), or race the \
             wait against a timeout or an AbortSignal so a call gives up."
        }
        Pattern::Other => {
            "Objects that grow at every step without matching a common leak pattern. Follow \
             the retainer path from the GC roots down to the first object your code owns, and \
             release the reference there when the work it belongs to is done."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pascal_case_and_distinct() {
        assert_eq!(name(Pattern::EventListener), "EventListenerNeverRemoved");
        let mut names: Vec<String> = Pattern::ALL.iter().map(|&p| name(p)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Pattern::ALL.len());
    }
}
