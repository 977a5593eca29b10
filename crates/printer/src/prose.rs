//! The words: explanations and fixes made from a suspect's facts, the same in every format
//! (terminal, Markdown, HTML, SARIF messages, GitHub annotations). Markdown-style backticks
//! mark code names; renderers that do not want them strip or convert them.

use leakhunt_findings::{CountUnit, Explanation, Owner, OwnerKind, Suspect};

use crate::bytes::{format_bytes, format_count};

/// How the owner reads in full: `module src/cache.js > userCache`, `closure variable
/// sessions`, `QueryCache.entries`, `process`.
pub fn owner(o: &Owner) -> String {
    match (o.kind, &o.module) {
        (OwnerKind::ModuleVariable | OwnerKind::ModuleExport, Some(m)) => {
            format!("module {m} > {}", o.path)
        }
        (OwnerKind::ClosureVariable, Some(m)) => format!("closure variable {} in {m}", o.path),
        (OwnerKind::ModuleVariable | OwnerKind::ClosureVariable, _) => {
            format!("closure variable {}", o.path)
        }
        _ => o.path.clone(),
    }
}

/// The owner's short name as code: `` `userCache` ``, `` `process` ``; a module's export by
/// the name it is exported as (`hub` for `exports.hub`).
pub fn owner_short(o: &Owner) -> String {
    let path = match o.kind {
        OwnerKind::ModuleExport => o.path.strip_prefix("exports.").unwrap_or(&o.path),
        _ => &o.path,
    };
    format!("`{path}`")
}

/// Per-step averages read best as whole numbers; below one, with a decimal.
pub fn count_per_step(v: f64) -> String {
    if v >= 1.0 {
        format_count(v.round() as u64)
    } else {
        format!("{v:.1}")
    }
}

/// `objects`, `entries`, `slots`, `appends`, `bytes`.
pub fn unit(u: CountUnit) -> &'static str {
    match u {
        CountUnit::Objects => "objects",
        CountUnit::Entries => "entries",
        CountUnit::Slots => "slots",
        CountUnit::Appends => "appends",
        CountUnit::Bytes => "bytes",
    }
}

fn per_step_bytes(s: &Suspect) -> String {
    format_bytes(s.bytes_per_step.round().max(0.0) as u64)
}

/// Why the suspect leaks, in a few sentences.
pub fn explanation(s: &Suspect) -> String {
    let n = count_per_step(s.count_per_step);
    let bytes = per_step_bytes(s);
    let class = &s.class;
    match &s.explanation {
        Explanation::EventListener {
            emitter_class,
            event,
            event_names_grow,
            ..
        } => {
            let emitter = match &s.owner {
                Some(o) if o.kind == OwnerKind::Process => "`process`".to_string(),
                Some(o) => format!("the {emitter_class} {}", owner_short(o)),
                None => format!("a {emitter_class}"),
            };
            if *event_names_grow {
                let like = event
                    .as_deref()
                    .map(|e| format!(" (such as '{e}')"))
                    .unwrap_or_default();
                return format!(
                    "Every step adds {n} new event names{like} to {emitter}, one listener under \
                     each, and none is removed: the event name is made per user or id, so the \
                     emitter's `_events` gains a key per name and keeps each {class} and everything \
                     it captures ({bytes} per step)."
                );
            }
            let event = event
                .as_deref()
                .map(|e| format!("'{e}'"))
                .unwrap_or_else(|| "an event".into());
            // A connection's socket lives as long as the client keeps it open, across requests.
            let connection = if ["Socket", "TLSSocket"].contains(&emitter_class.as_str()) {
                " With HTTP keep-alive one connection serves many requests: a listener added to \
                 `req.socket` per request stays until the client closes the connection."
            } else {
                ""
            };
            format!(
                "Every step adds {n} listeners for {event} to {emitter} and none is removed, so the \
                 listener list keeps each {class} and everything it captures ({bytes} per step). A \
                 listener lives as long as its emitter unless it is removed.{connection}"
            )
        }
        Explanation::Timer {
            duration_ms,
            repeats,
            one_list_per_duration,
        } => {
            let (timers, lasting, stays) = match repeats {
                Some(false) => (
                    "timeouts",
                    " after",
                    "A timeout stays alive until it fires or clearTimeout is called, even when \
                     nothing else refers to it.",
                ),
                Some(true) => (
                    "intervals",
                    " every",
                    "An interval stays alive until clearInterval is called, even when nothing \
                     else refers to it.",
                ),
                None => (
                    "timers",
                    " every",
                    "A timer stays alive until it is cleared (an interval) or fires (a timeout), \
                     even when nothing else refers to it.",
                ),
            };
            let every = duration_ms
                .map(|ms| format!(" ({} {ms} ms)", lasting.trim_start()))
                .unwrap_or_default();
            let lists = if *one_list_per_duration {
                " Their durations differ (a backoff or a jitter), so Node files each in a timer \
                 list of its own in its timer map and queue: what accumulates is those lists."
            } else {
                ""
            };
            format!(
                "Every step starts {n} {timers}{every} that are still pending, so Node's timer lists \
                 keep each callback and everything it captures ({bytes} per step).{lists} {stays}"
            )
        }
        Explanation::ClosureCapture { function } => {
            let function = function
                .as_deref()
                .filter(|f| !f.is_empty())
                .map(|f| format!("`{f}`"))
                .unwrap_or_else(|| "an anonymous function".into());
            format!(
                "Every step keeps {n} closures of {function} alive, and each one's scope holds {} \
                 ({bytes} per step) though the function itself is tiny. V8 keeps every variable of a \
                 scope that any inner function uses, so one kept callback retains them all.",
                captured_names(s)
            )
        }
        Explanation::UnboundedCollection {
            collection_class,
            value_class,
            entries_now,
        } => {
            let shown = match &s.owner {
                Some(o) => format!("The {collection_class} {}", owner_short(o)),
                None => format!("A {collection_class}"),
            };
            // Objects counted under a collection are its entries.
            let what = match s.count_unit {
                CountUnit::Slots => "slots",
                _ => "entries",
            };
            let note = match (value_class, entries_now, s.count_unit) {
                (Some(v), _, _) if !s.captured.is_empty() => format!(
                    " (its {v} values, each keeping the variables it captures alive: {})",
                    captured_names(s)
                ),
                (Some(v), _, _) => format!(" (its {v} values)"),
                (None, Some(now), CountUnit::Slots) => format!(
                    " ({now} now: it holds small numbers, which V8 stores inside the \
                     {collection_class}'s own storage, so that storage's capacity is what the \
                     snapshot shows)"
                ),
                (None, Some(now), _) => format!(" ({now} entries now)"),
                (None, None, _) => String::new(),
            };
            let keyed = if s.one_entry_per_new_key {
                " It gains one entry per iteration and the scenario gives every iteration a new \
                 `{{seq}}` value: a collection keyed by such values grows by design, so weigh it \
                 against what the service is meant to keep (with `{{i}}`, the same users every \
                 round, per-user state holds still)."
            } else {
                " Keyed per request or user, it grows with traffic until the process runs out of \
                 memory."
            };
            format!("{shown} gains {n} {what} per step and never loses any{note}, adding {bytes} per step.{keyed}")
        }
        Explanation::RetainedRequest {
            holder_class,
            record,
        } => {
            let held_by = s
                .owner
                .as_ref()
                .map(owner)
                .unwrap_or_else(|| holder_class.clone());
            match record {
                Some(r) => format!(
                    "{n} {class} records per step, each holding a {} in its `{}`, are kept by \
                     {held_by} after their requests ended. Each keeps that {}'s socket, headers, \
                     parser and buffers alive ({bytes} per step).",
                    r.class, r.property, r.class
                ),
                None => format!(
                    "{n} {class} objects per step are kept by {held_by} after their requests ended. \
                     Each keeps its socket, headers, parser and buffers alive ({bytes} per step)."
                ),
            }
        }
        Explanation::PendingPromise { functions } => {
            let promise = s
                .owner
                .as_ref()
                .map(|o| format!("the promise {}", owner_short(o)))
                .unwrap_or_else(|| "a promise".into());
            let calls = if functions.is_empty() {
                "async calls".to_string()
            } else {
                functions
                    .iter()
                    .map(|f| {
                        let name = f
                            .function
                            .as_deref()
                            .unwrap_or("an anonymous async function");
                        match &f.waits_at {
                            Some(at) => format!(
                                "{} calls of `{name}` waiting at {}:{}",
                                f.suspended, at.file, at.line
                            ),
                            None => format!("{} calls of `{name}`", f.suspended),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "Every step leaves {n} {class} objects ({bytes} per step) pending under {promise}, which \
                 never settles: {calls} now, each suspended at its `await` with its arguments and \
                 variables, for as long as that promise lives."
            )
        }
        Explanation::GrowingString => {
            let (short, name) = match &s.owner {
                Some(o) => (owner_short(o), o.path.clone()),
                None => ("a string".to_string(), "s".to_string()),
            };
            format!(
                "The string {short} gets longer at every step ({bytes} per step) and is never cut: each \
                 `{name} += …` makes a new string that keeps the old one as its first part, so \
                 everything ever appended stays in memory."
            )
        }
        Explanation::HandlerList { .. } | Explanation::LibraryCollection { .. } => {
            crate::library_prose::explanation(s).unwrap_or_default()
        }
        Explanation::Other { holder_class } => {
            let holder = holder_class.as_deref().unwrap_or("the GC roots");
            format!(
                "{n} {class} objects per step ({bytes} per step) stay alive, held by {holder} through \
                 the path shown. None of the common leak patterns matches, so follow the path up to \
                 the first object your code owns."
            )
        }
    }
}

/// What to change.
pub fn fix(s: &Suspect) -> String {
    match &s.explanation {
        Explanation::EventListener {
            event_names_grow: true,
            ..
        } => "Remove the listener when the user or id it was added for is done \
              (off/removeListener with the same name and handler), or use one event for all of \
              them with the id in the payload — emit('notification', { id, … }) and one listener \
              that looks the id up — so the names do not grow with your users."
            .into(),
        Explanation::EventListener {
            removal: Some(call),
            handler,
            ..
        } => {
            // The program's own names: the handler it already has in hand, or keeping it.
            let keep = match handler {
                Some(_) => "",
                None => "keep the handler in a variable (`listener`) and ",
            };
            format!(
                "Remove the listener when the work it belongs to ends: {keep}call `{call}`, or \
                 register it with once() or an AbortSignal so it goes away by itself."
            )
        }
        Explanation::EventListener { .. } => {
            "Remove the listener when the work it belongs to ends: keep the handler in a variable and \
             call off/removeListener (removeEventListener for an EventTarget) with it, or register it \
             with once() or an AbortSignal so it goes away by itself."
                .into()
        }
        Explanation::Timer { repeats, .. } => {
            let (call, clear) = match repeats {
                Some(false) => ("setTimeout", "clearTimeout"),
                Some(true) => ("setInterval", "clearInterval"),
                None => ("setInterval/setTimeout", "clearInterval/clearTimeout"),
            };
            format!(
                "Keep the handle that {call} returns and clear it ({clear}) when its owner — \
                 session, connection, request, job — ends; unref() only lets the process exit, it \
                 frees nothing."
            )
        }
        Explanation::ClosureCapture { .. } => {
            let first = s.captured.first().map(|c| c.name.as_str()).unwrap_or("obj");
            format!(
                "Capture only what the callback needs: copy the fields it uses into local variables \
                 before creating it (for example `const id = {first}.id`), or set {} to null once \
                 done; and drop the callbacks after they have run.",
                captured_names(s)
            )
        }
        Explanation::UnboundedCollection {
            value_class: Some(v),
            ..
        } if v == "(closure)" => {
            // Functions gathered per call are handlers registered again and again, not cached
            // data: an LRU would only drop some of them.
            "Its entries are functions added on every call (handlers, callbacks, middleware): \
             register one once at startup instead of one per request, or remove each when the \
             work it belongs to ends."
                .into()
        }
        Explanation::UnboundedCollection { .. } => {
            "Bound it: evict old entries (an LRU with a maximum size, or a time to live), delete an \
             entry when its user or request ends, or key it by the object itself in a WeakMap so \
             entries go with their keys."
                .into()
        }
        Explanation::RetainedRequest {
            holder_class,
            record: Some(r),
        } => {
            let held_by = s
                .owner
                .as_ref()
                .map(owner_short)
                .unwrap_or_else(|| format!("the {holder_class}"));
            format!(
                "Take each record out of {held_by} as soon as its request is answered (delete it where \
                 the response ends), so nothing keeps the {} after that; keep only what you need to \
                 answer (an id, a callback) in records that outlive it.",
                r.class
            )
        }
        Explanation::RetainedRequest {
            holder_class,
            record: None,
        } => {
            let held_by = s.owner.as_ref().map(owner).unwrap_or_else(|| holder_class.clone());
            format!(
                "Do not store {} objects: copy the fields you need (method, url, headers, timings) \
                 into a plain object when the request arrives and keep that instead, and bound or \
                 clear {held_by}.",
                s.class
            )
        }
        Explanation::PendingPromise { .. } => {
            let promise = s.owner.as_ref().map(owner_short).unwrap_or_else(|| "it".into());
            format!(
                "Make sure {promise} settles: resolve it when what it stands for is ready and reject \
                 it when that fails; or stop waiting on it without a bound — race it against a \
                 timeout or an AbortSignal (AbortSignal.timeout) so each call gives up and lets go \
                 of what it holds."
            )
        }
        Explanation::GrowingString => {
            let short = s.owner.as_ref().map(owner_short).unwrap_or_else(|| "it".into());
            format!(
                "Do not accumulate in a string: write each piece out as it comes (a stream, a file, a \
                 logger), or keep only the last lines in a bounded array, and reset {short} once it \
                 has been sent."
            )
        }
        Explanation::HandlerList { .. } | Explanation::LibraryCollection { .. } => {
            crate::library_prose::fix(s).unwrap_or_default()
        }
        Explanation::Other { .. } => {
            "Find where your code stores the first holder on the path and release the reference when \
             the work it belongs to is done."
                .into()
        }
    }
}

/// `` `session`, `buffer` `` — the captured variables, biggest first.
fn captured_names(s: &Suspect) -> String {
    let names: Vec<String> = s.captured.iter().map(|c| format!("`{}`", c.name)).collect();
    if names.is_empty() {
        "its variables".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection_of(value_class: &str) -> Suspect {
        serde_json::from_value(serde_json::json!({
            "pattern": "unbounded-collection",
            "class": value_class,
            "count_per_step": 300.0,
            "bytes_per_step": 30000.0,
            "retained_bytes": 90000,
            "count_by_snapshot": [300, 600, 900],
            "bytes_by_snapshot": [30000, 60000, 90000],
            "explanation": {
                "kind": "unbounded-collection",
                "collection_class": "Array",
                "value_class": value_class
            },
            "path": { "object": { "id": 1, "class": value_class }, "steps": [] }
        }))
        .unwrap()
    }

    #[test]
    fn functions_gathered_per_call_are_registered_once_not_evicted() {
        let handlers = fix(&collection_of("(closure)"));
        assert!(handlers.contains("register one once"), "{handlers}");
        assert!(!handlers.contains("LRU"), "{handlers}");
        assert!(fix(&collection_of("Session")).contains("LRU"));
    }

    #[test]
    fn a_timer_duration_says_every_once() {
        let mut s = collection_of("(closure)");
        s.pattern = leakhunt_findings::Pattern::Timer;
        s.explanation = serde_json::from_value(serde_json::json!({
            "kind": "timer", "duration_ms": 10000, "repeats": true
        }))
        .unwrap();
        let text = explanation(&s);
        assert!(text.contains("(every 10000 ms)"), "{text}");
    }
}
