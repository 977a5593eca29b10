//! Events the session handles itself: scripts as they are parsed, pauses resumed, the
//! target's end and its uncaught exception.

use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{Event, ScriptInfo, Session, MAX_BUFFERED_EVENTS};
use crate::error::Result;

impl Session {
    pub(super) fn handle_event(&mut self, method: &str, params: Option<&RawValue>) -> Result<()> {
        match method {
            "Debugger.scriptParsed" => {
                if let Some(p) = params {
                    if let Ok(info) = serde_json::from_str::<ScriptInfo>(p.get()) {
                        self.record_script(info);
                    }
                }
            }
            "NodeRuntime.waitingForDisconnect" => {
                self.ended = true;
                self.ended_at = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .map(|d| d.as_secs_f64() * 1000.0);
            }
            "Debugger.paused" => {
                // skipAllPauses should prevent this; if the target was already
                // paused when we attached (or another client paused it), resume it.
                self.auto_resumed += 1;
                let id = self.write_command("Debugger.resume", json!({}))?;
                self.forget.insert(id);
                self.flush("Debugger.resume")?;
            }
            // Late or stray snapshot traffic outside `take_snapshot`: nothing to do with it.
            "HeapProfiler.addHeapSnapshotChunk" | "HeapProfiler.reportHeapSnapshotProgress" => {}
            // Allocation tracking reports heap statistics many times a second; we read the
            // stacks from the snapshots instead.
            "HeapProfiler.heapStatsUpdate" | "HeapProfiler.lastSeenObjectId" => {}
            _ => {
                if self.events.len() >= MAX_BUFFERED_EVENTS {
                    self.events.pop_front();
                    self.dropped_events += 1;
                }
                let params = params
                    .and_then(|p| serde_json::from_str(p.get()).ok())
                    .unwrap_or(Value::Null);
                self.events.push_back(Event {
                    method: method.to_string(),
                    params,
                });
            }
        }
        Ok(())
    }

    pub(super) fn record_script(&mut self, info: ScriptInfo) {
        match self.script_index.get(&info.script_id) {
            Some(&i) => self.scripts[i] = info,
            None => {
                self.script_index
                    .insert(info.script_id.clone(), self.scripts.len());
                self.scripts.push(info);
            }
        }
    }
}

/// When (ms since the epoch) and what (`Error: message\n    at …`), from the params of
/// `Runtime.exceptionThrown`.
pub(super) fn describe_exception(params: &str) -> Option<(f64, String)> {
    let v: Value = serde_json::from_str(params).ok()?;
    let at = v
        .get("timestamp")
        .and_then(Value::as_f64)
        .unwrap_or(f64::MAX);
    Some((at, describe_exception_value(v.get("exceptionDetails")?)?))
}

/// From CDP `exceptionDetails`: the exception's description (message and stack), or for a
/// thrown primitive its value, or else the details' text ("Uncaught").
pub(super) fn describe_exception_value(details: &Value) -> Option<String> {
    let exception = details.get("exception");
    if let Some(d) = exception
        .and_then(|e| e.get("description"))
        .and_then(Value::as_str)
    {
        return Some(d.to_string());
    }
    // A thrown primitive (`throw 'oops'`): its value, as JSON.
    if let Some(v) = exception.and_then(|e| e.get("value")) {
        return Some(v.to_string());
    }
    let text = details.get("text").and_then(Value::as_str).unwrap_or("");
    (!text.is_empty()).then(|| text.to_string())
}
