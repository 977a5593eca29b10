//! The JSON-RPC transport of a session: commands written, replies routed to whoever waits
//! for them (or stashed), events handed on as they arrive, a lost connection remembered.

use std::borrow::Cow;
use std::io;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tungstenite::Message;

use super::{Reply, RpcError, Session, Wait, READ_TICK};
use crate::error::{InspectorError, Result};

#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    error: Option<RpcError>,
}

impl Session {
    pub(super) fn call_raw(&mut self, method: &str, params: Value) -> Result<Box<RawValue>> {
        let id = self.write_command(method, params)?;
        self.flush(method)?;
        let wait = Wait::Total(self.call_timeout);
        self.wait_reply(id, method, wait, &mut |_, _| Ok(false))
    }

    /// Queues a command (not flushed); returns its id.
    pub(crate) fn write_command(&mut self, method: &str, params: Value) -> Result<u64> {
        self.check_alive(method)?;
        let id = self.next_id;
        self.next_id += 1;
        let text = json!({ "id": id, "method": method, "params": params }).to_string();
        if let Err(e) = self.ws.write(Message::text(text)) {
            return Err(self.broke(method, e));
        }
        Ok(id)
    }

    pub(crate) fn flush(&mut self, during: &str) -> Result<()> {
        match self.ws.flush() {
            Ok(()) => Ok(()),
            Err(e) => Err(self.broke(during, e)),
        }
    }

    /// Reads messages until the reply to `id` arrives. Events go to `on_event`
    /// first (returning true = consumed), then to the session's own handling.
    pub(crate) fn wait_reply(
        &mut self,
        id: u64,
        method: &str,
        wait: Wait,
        on_event: &mut dyn FnMut(&str, Option<&RawValue>) -> Result<bool>,
    ) -> Result<Box<RawValue>> {
        if let Some(reply) = self.stash.remove(&id) {
            return reply_to_result(method, reply);
        }
        self.check_not_ended(method)?;
        let (limit, idle) = match wait {
            Wait::Total(d) => (d, false),
            Wait::Idle(d) => (d, true),
        };
        let mut deadline = Instant::now() + limit;
        loop {
            let Some(text) = self.read_text(deadline, method)? else {
                return Err(InspectorError::Timeout {
                    what: format!("the reply to {method}"),
                    timeout: limit,
                });
            };
            if idle {
                deadline = Instant::now() + limit;
            }
            let env = parse_envelope(text.as_str())?;
            if let Some(reply) = self.route(env, Some(id), on_event)? {
                return reply_to_result(method, reply);
            }
            self.check_not_ended(method)?;
        }
    }

    /// A target that ended answers nothing useful any more; do not wait for it.
    pub(super) fn check_not_ended(&self, method: &str) -> Result<()> {
        if self.ended && !self.after_end {
            return Err(InspectorError::TargetEnded {
                during: method.to_string(),
            });
        }
        Ok(())
    }

    /// Handles one message; returns the reply if it is the one awaited.
    pub(super) fn route(
        &mut self,
        env: Envelope<'_>,
        awaited: Option<u64>,
        on_event: &mut dyn FnMut(&str, Option<&RawValue>) -> Result<bool>,
    ) -> Result<Option<Reply>> {
        if let Some(id) = env.id {
            let reply = match env.error {
                Some(err) => Err(err),
                None => Ok(env
                    .result
                    .map(RawValue::to_owned)
                    .unwrap_or_else(empty_object)),
            };
            if Some(id) == awaited {
                return Ok(Some(reply));
            }
            if !self.forget.remove(&id) {
                self.stash.insert(id, reply);
            }
            return Ok(None);
        }
        let Some(method) = env.method else {
            return Err(InspectorError::Protocol(
                "message with neither id nor method".into(),
            ));
        };
        if on_event(&method, env.params)? {
            return Ok(None);
        }
        self.handle_event(&method, env.params)?;
        Ok(None)
    }

    /// Next text message, or `None` when `deadline` passed first.
    pub(super) fn read_text(
        &mut self,
        deadline: Instant,
        during: &str,
    ) -> Result<Option<tungstenite::Utf8Bytes>> {
        self.check_alive(during)?;
        loop {
            // Wake up at the deadline, or every READ_TICK at most.
            let tick = deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), READ_TICK);
            if tick != self.read_tick {
                self.read_tick = tick;
                let _ = self.ws.get_ref().set_read_timeout(Some(tick));
            }
            match self.ws.read() {
                Ok(Message::Text(t)) => return Ok(Some(t)),
                Ok(Message::Binary(b)) => {
                    // CDP is text-only; be lenient if it is valid UTF-8.
                    if let Ok(t) = tungstenite::Utf8Bytes::try_from(b) {
                        return Ok(Some(t));
                    }
                }
                Ok(Message::Close(frame)) => {
                    let detail =
                        frame.map(|f| format!("closed by the target: {} {}", f.code, f.reason));
                    self.broken = Some(
                        detail
                            .clone()
                            .unwrap_or_else(|| "closed by the target".into()),
                    );
                    return Err(InspectorError::Disconnected {
                        during: during.to_string(),
                        detail,
                    });
                }
                // Pongs to pings are queued by tungstenite and sent on the next write/flush.
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(self.broke(during, e)),
            }
        }
    }

    pub(super) fn check_alive(&self, during: &str) -> Result<()> {
        match &self.broken {
            Some(why) => Err(InspectorError::Disconnected {
                during: during.to_string(),
                detail: Some(format!("the connection was already lost ({why})")),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn broke(&mut self, during: &str, e: tungstenite::Error) -> InspectorError {
        let detail = match &e {
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                "connection closed".to_string()
            }
            other => other.to_string(),
        };
        self.broken = Some(detail.clone());
        InspectorError::Disconnected {
            during: during.to_string(),
            detail: Some(detail),
        }
    }
}

pub(super) fn parse_envelope(text: &str) -> Result<Envelope<'_>> {
    serde_json::from_str(text).map_err(|e| {
        let head: String = text.chars().take(200).collect();
        InspectorError::Protocol(format!("{e}: {head}"))
    })
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).expect("valid JSON")
}

pub(super) fn reply_to_result(method: &str, reply: Reply) -> Result<Box<RawValue>> {
    reply.map_err(|e| InspectorError::Command {
        method: method.to_string(),
        code: e.code,
        message: match e.data {
            Some(Value::String(d)) if !d.is_empty() => format!("{} ({d})", e.message),
            _ => e.message,
        },
    })
}
