//! Scenarios: what one virtual user does, read from a TOML file or from one-line requests.
//!
//! - this module: the model ([`Scenario`], [`Step`], [`Body`]), the checks every step
//!   passes however it was written, and the one-line error ([`ScenarioError`]);
//! - `toml_file`: the TOML file format (described in the crate's README);
//! - `request_line`: one-line requests (`POST /api/login {"email":"u{{i}}@x.com"}`).
//!
//! Loading does all the checking up front, so the runner never meets a bad step in the
//! middle of a run: every problem is reported as one line naming the file and the line
//! (`scenario.toml:7: step 2: …`), which is what a user fixing the file needs and what fits in
//! a CLI's error output.

mod request_line;
mod toml_file;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::template::Template;

pub use request_line::parse_request_line;

/// Iterations per round when the scenario does not say.
pub const DEFAULT_ITERATIONS: u64 = 1000;
/// Concurrent virtual users when the scenario does not say.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Most concurrent virtual users allowed: each one is a thread with its own connection.
pub const MAX_CONCURRENCY: usize = 1024;
/// The methods a step may use.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A load scenario: `steps` are run in order by each iteration (one virtual user).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Iterations per round (≥ 1). The caller decides which iteration numbers a round runs.
    pub iterations: u64,
    /// Iterations run at the same time (≥ 1), each on its own connection.
    pub concurrency: usize,
    /// `http://host:port[/prefix]` if the file sets one; otherwise the caller's default.
    pub base_url: Option<String>,
    /// The requests of one iteration, in order (at least one).
    pub steps: Vec<Step>,
    /// Each virtual user keeps its connection open from one run (round) to the next instead
    /// of closing it when the run ends. Clones of the scenario share the kept connections.
    pub keep_alive: bool,
    /// Longest a request may take, from sending it to the end of its response, for steps
    /// that do not set their own (`timeout = "5s"`); `None` leaves it to the run's options.
    pub timeout: Option<Duration>,
    pub(crate) kept: std::sync::Arc<crate::kept::KeptConnections>,
}

/// One request of an iteration.
#[derive(Debug, Clone)]
pub struct Step {
    /// Upper-case method, one of [`METHODS`].
    pub method: String,
    /// Request target, starting with `/`; may contain `{{i}}`.
    pub path: Template,
    /// Extra headers; values may contain `{{i}}`.
    pub headers: Vec<(String, Template)>,
    /// Request body, if any.
    pub body: Option<Body>,
    /// If set, any other status counts as a failed request.
    pub expect_status: Option<u16>,
    /// This step's own request timeout (a stream or a long poll that never ends by itself).
    pub timeout: Option<Duration>,
    /// Values to take from its JSON response for later steps' `{{name}}`.
    pub capture: Vec<crate::capture::Capture>,
}

/// A request body. Both kinds may contain `{{i}}`.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON text, sent as `application/json`.
    Json(Template),
    /// Raw text, sent as `text/plain; charset=utf-8` unless a header sets the content type.
    Text(Template),
}

impl Body {
    /// The body's template.
    pub fn template(&self) -> &Template {
        match self {
            Body::Json(t) | Body::Text(t) => t,
        }
    }
}

impl Step {
    /// A step with no headers, body or expected status. Panics if `method` is not one of
    /// [`METHODS`] or `path` does not start with `/` (use [`parse_request_line`] for input).
    pub fn new(method: &str, path: &str) -> Step {
        let method = method.to_ascii_uppercase();
        assert!(METHODS.contains(&method.as_str()), "bad method {method}");
        assert!(path.starts_with('/'), "path must start with '/'");
        Step {
            method,
            path: Template::new(path),
            headers: Vec::new(),
            body: None,
            expect_status: None,
            timeout: None,
            capture: Vec::new(),
        }
    }

    /// `METHOD /path` as written (with `{{i}}` unexpanded): names the step in error reports.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path.source())
    }
}

/// A scenario that could not be loaded: one line, `source:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    /// File name, or a description such as `request "FOO /x"` for one-liners.
    pub source_name: String,
    /// 1-based line, when the problem is at a known place.
    pub line: Option<usize>,
    /// What is wrong (one line, no trailing period).
    pub message: String,
}

impl ScenarioError {
    fn render(&self) -> String {
        // Messages quote what the file says; a control character in it (an escape sequence
        // that clears the screen or retitles the terminal) is shown, not sent.
        let (source, message) = (
            escape_controls(&self.source_name),
            escape_controls(&self.message),
        );
        match self.line {
            Some(line) => format!("{source}:{line}: {message}"),
            None => format!("{source}: {message}"),
        }
    }
}

/// `text` with its control characters (line breaks included: a message is one line) written
/// as Rust escapes (`\u{1b}`); everything else, non-ASCII letters included, as it is.
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

impl Scenario {
    /// A scenario of `steps` with the given iterations and concurrency, no base URL.
    pub fn new(steps: Vec<Step>, iterations: u64, concurrency: usize) -> Scenario {
        Scenario {
            iterations,
            concurrency,
            base_url: None,
            steps,
            keep_alive: false,
            timeout: None,
            kept: Default::default(),
        }
    }

    /// Reads and checks a scenario file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            source_name: name.clone(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Scenario::parse(&text, &name)
    }

    /// Parses and checks scenario text; `source_name` (usually the file name) prefixes errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Scenario, ScenarioError> {
        toml_file::parse(text, source_name)
    }

    /// A scenario of one-line requests (see [`parse_request_line`]).
    pub fn from_request_lines<S: AsRef<str>>(
        lines: &[S],
        iterations: u64,
        concurrency: usize,
    ) -> Result<Scenario, ScenarioError> {
        let no_steps = || ScenarioError {
            source_name: "requests".into(),
            line: None,
            message: "no requests given".into(),
        };
        if lines.is_empty() {
            return Err(no_steps());
        }
        let steps = lines
            .iter()
            .map(|l| parse_request_line(l.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Scenario::new(steps, iterations, concurrency))
    }
}

impl fmt::Display for Step {
    /// The step as a one-line request (`POST /api/login {"email":"u{{i}}@x.com"}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        if let Some(body) = &self.body {
            write!(f, " {}", body.template())?;
        }
        Ok(())
    }
}

/// What is wrong with a step's method, path or header, wherever the step was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("bad method '{0}' (expected one of {methods})", methods = METHODS.join(", "))]
    Method(String),
    #[error("path must start with '/', got '{0}'")]
    PathNotAbsolute(String),
    #[error("path '{0}' has spaces or control characters (percent-encode them)")]
    PathCharacters(String),
    #[error("bad header name '{0}'")]
    HeaderName(String),
    #[error("header '{0}' is set by the runner")]
    ReservedHeader(String),
    #[error("header 'Connection' may only be close or keep-alive, got '{0}'")]
    ConnectionValue(String),
    #[error("header '{0}' has a line break in its value")]
    HeaderLineBreak(String),
}

/// The method in upper case, if it is one of [`METHODS`].
pub(crate) fn check_method(method: &str) -> Result<String, StepError> {
    let upper = method.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(StepError::Method(method.to_owned()))
    }
}

pub(crate) fn check_path(path: &str) -> Result<(), StepError> {
    if !path.starts_with('/') {
        return Err(StepError::PathNotAbsolute(path.to_owned()));
    }
    if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(StepError::PathCharacters(path.to_owned()));
    }
    Ok(())
}

pub(crate) fn check_header(name: &str, value: &str) -> Result<(), StepError> {
    const SEPARATORS: &[u8] = b"()<>@,;:\\\"/[]?={} \t";
    if name.is_empty()
        || name
            .bytes()
            .any(|b| b <= b' ' || b >= 0x7f || SEPARATORS.contains(&b))
    {
        return Err(StepError::HeaderName(name.to_owned()));
    }
    for reserved in ["content-length", "transfer-encoding"] {
        if name.eq_ignore_ascii_case(reserved) {
            return Err(StepError::ReservedHeader(name.to_owned()));
        }
    }
    // `Connection: close` asks for one connection per request (the client then opens a
    // fresh one for the next); anything else would change how responses are framed.
    if name.eq_ignore_ascii_case("connection")
        && !["close", "keep-alive"]
            .iter()
            .any(|v| value.trim().eq_ignore_ascii_case(v))
    {
        return Err(StepError::ConnectionValue(value.to_owned()));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(StepError::HeaderLineBreak(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Scenario::parse(text, "s.toml").unwrap_err().to_string()
    }

    #[test]
    fn control_characters_are_shown_escaped_never_sent_to_the_terminal() {
        let e = err("[[step]]\npath = \"/a\\u001b[2J\\u0007b\"\n");
        assert!(!e.chars().any(char::is_control), "{e:?}");
        assert!(e.contains(r"/a\u{1b}[2J\u{7}b"), "{e}");
        let e = err("[[step]]\npath = \"/\"\nmethod = \"G\\u001bT\"\n");
        assert!(!e.chars().any(char::is_control), "{e:?}");
        let e = Scenario::parse(
            "iterations = 0\n[[step]]\npath = \"/\"\n",
            "s\u{1b}]0;x\u{7}.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(!e.chars().any(char::is_control), "the file name too: {e:?}");
        let e = parse_request_line("GET /\u{1b}[31mred")
            .unwrap_err()
            .to_string();
        assert!(!e.chars().any(char::is_control), "{e:?}");
        // Ordinary text, non-ASCII included, is left alone.
        assert!(err("[[step]]\npath = \"/é x\"\n").contains("'/é x'"));
    }
}
