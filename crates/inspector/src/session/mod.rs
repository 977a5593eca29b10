//! A Chrome DevTools Protocol session: JSON-RPC over one WebSocket.
//!
//! Commands get increasing ids; replies are routed by id (a reply for an id
//! nobody is waiting on yet is stashed), events are handled as they arrive:
//! `Debugger.scriptParsed` feeds the script table (the Debugger domain is on only
//! while [`Session::refresh_scripts`] reads it), `Debugger.paused` is answered
//! with `Debugger.resume` (a paused service would stop serving the load and
//! never reach the next snapshot), heap-snapshot events go to the snapshot in
//! progress, anything else is buffered for [`Session::take_events`].
//!
//! Everything is synchronous: leakhunt does one thing at a time with the target
//! (drive load, GC, snapshot), and the only large traffic, snapshot chunks, is
//! consumed in the call that asked for it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;

use crate::attach::parse_ws_url;

mod events;
mod transport;

use crate::error::{InspectorError, Result};
use events::{describe_exception, describe_exception_value};
use transport::parse_envelope;

/// Default time a command may take (GC on a large heap takes seconds).
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// During a snapshot: longest silence tolerated between two messages.
const DEFAULT_SNAPSHOT_IDLE: Duration = Duration::from_secs(180);
/// How often a blocked read wakes up to check its deadline.
const READ_TICK: Duration = Duration::from_millis(250);
/// Unclaimed events kept for `take_events`; older ones are dropped.
const MAX_BUFFERED_EVENTS: usize = 10_000;

/// A CDP event that nothing inside the session consumed.
#[derive(Debug, Clone)]
pub struct Event {
    pub method: String,
    pub params: Value,
}

/// What `Debugger.scriptParsed` told us about one script.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptInfo {
    /// A decimal string in CDP; heap snapshot `locations` carry it as a number.
    pub script_id: String,
    /// `file:///abs/path.js` for CJS and ESM files, `node:internal/…` for builtins,
    /// empty for eval'd code.
    #[serde(default)]
    pub url: String,
    #[serde(default, rename = "sourceMapURL")]
    pub source_map_url: String,
    #[serde(default)]
    pub hash: String,
    #[serde(default)]
    pub start_line: u32,
    #[serde(default)]
    pub end_line: u32,
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub is_module: Option<bool>,
    #[serde(default)]
    pub execution_context_id: Option<i64>,
    #[serde(default)]
    pub embedder_name: Option<String>,
}

/// `process.memoryUsage()` of the target, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryUsage {
    pub rss: u64,
    pub heap_total: u64,
    pub heap_used: u64,
    #[serde(default)]
    pub external: u64,
    #[serde(default)]
    pub array_buffers: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RpcError {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: Option<Value>,
}

type Reply = std::result::Result<Box<RawValue>, RpcError>;

/// How long `wait_reply` may wait.
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    /// For the whole command.
    Total(Duration),
    /// Between two messages (restarted by every message received).
    Idle(Duration),
}

/// One CDP connection to a Node.js target.
pub struct Session {
    ws: WebSocket<TcpStream>,
    url: String,
    next_id: u64,
    stash: HashMap<u64, Reply>,
    /// Fire-and-forget commands (auto `Debugger.resume`): their replies are dropped.
    forget: HashSet<u64>,
    events: VecDeque<Event>,
    dropped_events: u64,
    scripts: Vec<ScriptInfo>,
    script_index: HashMap<String, usize>,
    auto_resumed: u64,
    call_timeout: Duration,
    pub(crate) snapshot_idle_timeout: Duration,
    /// Set once the connection broke; every later call fails fast with it.
    broken: Option<String>,
    /// Current read timeout of the socket.
    read_tick: Duration,
    /// The target reported `NodeRuntime.waitingForDisconnect`: its program ended (an
    /// uncaught exception, `process.exit`) and it only waits for us to leave.
    ended: bool,
    /// When that was reported, in milliseconds since the epoch (V8's exception clock).
    ended_at: Option<f64>,
    /// Set while reading what an ended target still says (its exception).
    after_end: bool,
    /// The inspector leakhunt opened for this session, closed when the last holder goes.
    pub(crate) opened: Option<std::sync::Arc<crate::attach::Opened>>,
}

impl Session {
    /// Connects to a `ws://` inspector URL on loopback (anything else is refused).
    pub fn connect(ws_url: &str) -> Result<Session> {
        let (url, addr) = parse_ws_url(ws_url)?;
        let stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| {
                match e.kind() {
                    io::ErrorKind::ConnectionRefused => InspectorError::NothingListening {
                        addr: addr.to_string(),
                    },
                    _ => InspectorError::Handshake {
                        url: url.clone(),
                        reason: e.to_string(),
                    },
                }
            })?;
        let hs_err = |reason: String| InspectorError::Handshake {
            url: url.clone(),
            reason,
        };
        stream
            .set_nodelay(true)
            .map_err(|e| hs_err(e.to_string()))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .and_then(|_| stream.set_write_timeout(Some(Duration::from_secs(30))))
            .map_err(|e| hs_err(e.to_string()))?;
        // Chunks are at most 1 MiB, but `evaluate` with returnByValue can return
        // big values; the limits only guard against garbage.
        let config = WebSocketConfig::default()
            .max_message_size(Some(1 << 30))
            .max_frame_size(Some(1 << 30));
        let (ws, _response) = tungstenite::client::client_with_config(
            url.as_str(),
            stream,
            Some(config),
        )
        .map_err(|e| match e {
            tungstenite::HandshakeError::Interrupted(_) => hs_err("no answer within 5 s".into()),
            tungstenite::HandshakeError::Failure(tungstenite::Error::Http(resp)) => {
                hs_err(format!(
                    "HTTP {} (a wrong or stale target id? another client may hold the session)",
                    resp.status()
                ))
            }
            tungstenite::HandshakeError::Failure(e) => hs_err(e.to_string()),
        })?;
        ws.get_ref()
            .set_read_timeout(Some(READ_TICK))
            .map_err(|e| hs_err(e.to_string()))?;
        Ok(Session {
            ws,
            url,
            next_id: 1,
            stash: HashMap::new(),
            forget: HashSet::new(),
            events: VecDeque::new(),
            dropped_events: 0,
            scripts: Vec::new(),
            script_index: HashMap::new(),
            auto_resumed: 0,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            snapshot_idle_timeout: DEFAULT_SNAPSHOT_IDLE,
            broken: None,
            read_tick: READ_TICK,
            ended: false,
            ended_at: None,
            after_end: false,
            opened: None,
        })
    }

    /// The `ws://` URL this session is connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the connection still stands (it breaks when the target dies, or on
    /// [`Session::disconnect`]).
    pub fn connected(&self) -> bool {
        self.broken.is_none()
    }

    /// Longest time a command may take (default 60 s). Snapshots are not bound by
    /// it, only by [`Session::set_snapshot_idle_timeout`].
    pub fn set_call_timeout(&mut self, timeout: Duration) {
        self.call_timeout = timeout;
    }

    /// Longest silence tolerated during a snapshot (default 180 s).
    pub fn set_snapshot_idle_timeout(&mut self, timeout: Duration) {
        self.snapshot_idle_timeout = timeout;
    }

    /// Enables the HeapProfiler domain, and reads the script table once (see
    /// [`Session::refresh_scripts`]); the Debugger domain is left off.
    ///
    /// Why off: while a debugger is enabled, V8 keeps async stack bookkeeping, linking each
    /// promise to the async function that awaits it. A service that caches promises then
    /// keeps every awaiting request's context alive through its cache: measured on such a
    /// service, 5.5 KB retained per request with the Debugger on against 0.76 KB without.
    /// A leak hunt must measure the service as it runs without us.
    ///
    /// It also asks Node to report `NodeRuntime.waitingForDisconnect` when the target's
    /// program ends while we are attached (an uncaught exception, `process.exit`): Node then
    /// keeps the process alive until every inspector client has left, so without that event
    /// a crash looks like a target that stopped answering. See [`Session::target_ended`].
    pub fn enable(&mut self) -> Result<()> {
        let c = self.write_command("HeapProfiler.enable", json!({}))?;
        // Not every runtime speaking CDP has it: fire and forget.
        let d = self.write_command(
            "NodeRuntime.notifyWhenWaitingForDisconnect",
            json!({ "enabled": true }),
        )?;
        self.forget.insert(d);
        self.flush("HeapProfiler.enable")?;
        let wait = Wait::Total(self.call_timeout);
        self.wait_reply(c, "HeapProfiler.enable", wait, &mut |_, _| Ok(false))?;
        // Also resumes a target that was paused when we came (`--inspect-brk`, another
        // client's breakpoint): the pause is reported on enable and answered.
        self.refresh_scripts()
    }

    /// Fills the script table (script id → URL, source map URL) with every script the
    /// target has loaded: `Debugger.enable` reports each live one through
    /// `Debugger.scriptParsed` before it answers, then `Debugger.disable` turns the
    /// debugger off again (see [`Session::enable`] for why it must not stay on). Call it
    /// after the last snapshot, to know the scripts loaded while the load ran.
    ///
    /// `Debugger.setSkipAllPauses {skip:true}` is written right behind `Debugger.enable`,
    /// in the same flush, without waiting for its reply: once the debugger is on, a
    /// `debugger;` statement in the target pauses it, and waiting for the enable reply
    /// first was measured to be too late. Node handles both messages before running any
    /// more JavaScript; a pause reported anyway is answered with `Debugger.resume`.
    pub fn refresh_scripts(&mut self) -> Result<()> {
        let a = self.write_command("Debugger.enable", json!({}))?;
        let b = self.write_command("Debugger.setSkipAllPauses", json!({ "skip": true }))?;
        self.flush("Debugger.enable")?;
        let wait = Wait::Total(self.call_timeout);
        self.wait_reply(a, "Debugger.enable", wait, &mut |_, _| Ok(false))?;
        self.wait_reply(b, "Debugger.setSkipAllPauses", wait, &mut |_, _| Ok(false))?;
        // Disabling also resumes a target still paused.
        self.call("Debugger.disable", json!({}))?;
        Ok(())
    }

    /// Every script the target reported through `Debugger.scriptParsed`, in
    /// order of first report: those loaded when [`Session::enable`] or the last
    /// [`Session::refresh_scripts`] ran.
    pub fn scripts(&self) -> &[ScriptInfo] {
        &self.scripts
    }

    /// The script with this id (as in snapshot `locations`), if reported.
    pub fn script(&self, script_id: &str) -> Option<&ScriptInfo> {
        self.script_index.get(script_id).map(|&i| &self.scripts[i])
    }

    /// Whether the target's program has ended (see [`Session::enable`]): it waits for us to
    /// disconnect, and every further command fails with [`InspectorError::TargetEnded`].
    /// [`Session::uncaught_exception`] tells why it ended; [`Session::disconnect`] lets it go.
    pub fn target_ended(&self) -> bool {
        self.ended
    }

    /// After [`Session::target_ended`]: the uncaught exception that ended the target
    /// (`Error: message` and its stack, as V8 describes it), if that is what ended it.
    /// Enabling the Runtime domain makes V8 replay the exceptions it kept for the console;
    /// only one thrown shortly before the end counts (an older one was survived, through
    /// `process.on('uncaughtException')`).
    pub fn uncaught_exception(&mut self, timeout: Duration) -> Option<String> {
        const RECENT_MS: f64 = 10_000.0;
        let ended_at = self.ended_at?;
        self.after_end = true;
        let mut found = None;
        let id = self.write_command("Runtime.enable", json!({})).ok()?;
        self.flush("Runtime.enable").ok()?;
        let _ = self.wait_reply(id, "Runtime.enable", Wait::Total(timeout), &mut |m, p| {
            if m == "Runtime.exceptionThrown" {
                if let Some((at_ms, text)) = p.and_then(|p| describe_exception(p.get())) {
                    if at_ms >= ended_at - RECENT_MS {
                        found = Some(text);
                    }
                }
            }
            // Console messages replayed by Runtime.enable: not ours to keep.
            Ok(m.starts_with("Runtime."))
        });
        self.after_end = false;
        found
    }

    /// Closes the connection (a target that ended can then exit). Later calls fail.
    pub fn disconnect(&mut self) {
        if self.broken.is_none() {
            self.close_politely();
            self.broken = Some("closed by leakhunt".into());
        }
    }

    /// Sends `expression` to evaluate when it is expected to close the connection (closing
    /// the inspector ends every session without a reply). Ok when the connection closed, or
    /// `timeout` passed; an error when it answered with an exception.
    pub(crate) fn send_and_expect_close(
        &mut self,
        expression: &str,
        timeout: Duration,
    ) -> Result<()> {
        let id = self.write_command(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "silent": true }),
        )?;
        self.flush("Runtime.evaluate")?;
        match self.wait_reply(id, "Runtime.evaluate", Wait::Total(timeout), &mut |_, _| {
            Ok(true)
        }) {
            Ok(raw) => {
                let v: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                match v.get("exceptionDetails").and_then(describe_exception_value) {
                    Some(description) => Err(InspectorError::Evaluate {
                        expression: expression.to_string(),
                        description,
                    }),
                    None => Ok(()),
                }
            }
            Err(InspectorError::Disconnected { .. } | InspectorError::Timeout { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// How many times the target paused and was resumed by us (should stay 0).
    pub fn auto_resumed(&self) -> u64 {
        self.auto_resumed
    }

    /// Full GC in the target (`HeapProfiler.collectGarbage`).
    pub fn collect_garbage(&mut self) -> Result<()> {
        self.call("HeapProfiler.collectGarbage", json!({}))?;
        Ok(())
    }

    /// Turns V8's allocation tracking on: from now on each new object records the call
    /// stack that allocated it, and snapshots carry those stacks (`trace_tree`).
    pub fn start_allocation_tracking(&mut self) -> Result<()> {
        self.call(
            "HeapProfiler.startTrackingHeapObjects",
            json!({ "trackAllocations": true }),
        )?;
        Ok(())
    }

    /// Turns allocation tracking off again, without the snapshot that
    /// `HeapProfiler.stopTrackingHeapObjects` would take: disabling the domain stops it (and
    /// forgets object ids, so take no more snapshots to diff after this). Closing the
    /// session stops it too, which is what happens on every error path.
    pub fn stop_allocation_tracking(&mut self) -> Result<()> {
        self.call("HeapProfiler.disable", json!({}))?;
        Ok(())
    }

    /// `(used, total)` bytes of the V8 heap (`Runtime.getHeapUsage`); cheap, no GC.
    pub fn heap_usage(&mut self) -> Result<(u64, u64)> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct HeapUsage {
            used_size: f64,
            total_size: f64,
        }
        let raw = self.call_raw("Runtime.getHeapUsage", json!({}))?;
        let u: HeapUsage = serde_json::from_str(raw.get()).map_err(|e| {
            InspectorError::Protocol(format!("Runtime.getHeapUsage: {e}: {}", raw.get()))
        })?;
        Ok((u.used_size as u64, u.total_size as u64))
    }

    /// `process.memoryUsage()` in the target.
    pub fn memory_usage(&mut self) -> Result<MemoryUsage> {
        let v = self.evaluate("process.memoryUsage()")?;
        serde_json::from_value(v.clone())
            .map_err(|e| InspectorError::Protocol(format!("process.memoryUsage() gave {v}: {e}")))
    }

    /// Evaluates `expression` in the target's main context and returns its
    /// value as JSON (`returnByValue`). `undefined` becomes `null`; NaN,
    /// Infinity and BigInts come back as strings ("NaN", "12n").
    ///
    /// Note: in a CommonJS main, `require` is not defined here; use
    /// `process.getBuiltinModule("v8")` (Node ≥ 20.16) or `process.mainModule.require`.
    pub fn evaluate(&mut self, expression: &str) -> Result<Value> {
        let v = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "silent": true }),
        )?;
        if let Some(ex) = v.get("exceptionDetails") {
            let description =
                describe_exception_value(ex).unwrap_or_else(|| "unknown exception".to_string());
            return Err(InspectorError::Evaluate {
                expression: expression.to_string(),
                description,
            });
        }
        let result = v.get("result").cloned().unwrap_or(Value::Null);
        if let Some(value) = result.get("value") {
            return Ok(value.clone());
        }
        if let Some(u) = result.get("unserializableValue") {
            return Ok(u.clone());
        }
        Ok(Value::Null)
    }

    /// Sends any CDP command and waits for its `result`.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let raw = self.call_raw(method, params)?;
        serde_json::from_str(raw.get())
            .map_err(|e| InspectorError::Protocol(format!("{method}: {e}")))
    }

    /// Events received so far that nothing consumed (oldest first), and how many
    /// older ones were dropped because nobody collected them.
    pub fn take_events(&mut self) -> (Vec<Event>, u64) {
        let dropped = std::mem::take(&mut self.dropped_events);
        (self.events.drain(..).collect(), dropped)
    }

    /// Reads whatever the target already sent (script reports, pauses…) without
    /// sending anything; waits at most `timeout`.
    pub fn poll(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while let Some(text) = self.read_text(deadline, "poll")? {
            let env = parse_envelope(text.as_str())?;
            self.route(env, None, &mut |_, _| Ok(false))?;
        }
        Ok(())
    }
}

impl Session {
    /// Polite close so Node logs "Debugger ending" instead of a reset; never waits long.
    fn close_politely(&mut self) {
        let _ = self
            .ws
            .get_ref()
            .set_write_timeout(Some(Duration::from_millis(200)));
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
        let _ = self.ws.get_ref().shutdown(std::net::Shutdown::Both);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.broken.is_none() {
            self.close_politely();
        }
        // `opened` is dropped after this: the inspector leakhunt opened closes then, if no
        // other session or endpoint holds it.
    }
}
