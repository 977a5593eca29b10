//! The scenario file: TOML, one `[[step]]` table per request.
//!
//! To find lines, the raw file is deserialized with [`toml::Spanned`] around each value that
//! is checked here, and the `toml` crate's own errors carry a byte span.

use std::collections::BTreeMap;
use std::ops::Range;

use leakhunt_http_wire::BaseUrl;
use serde::de::IgnoredAny;
use serde::Deserialize;
use toml::Spanned;

use super::{
    check_header, check_method, check_path, Body, Scenario, ScenarioError, Step,
    DEFAULT_CONCURRENCY, DEFAULT_ITERATIONS, MAX_CONCURRENCY,
};
use crate::capture::Capture;
use crate::template::Template;

/// The file as written. Numbers are read as any TOML value so that a wrong type gets the
/// same friendly message as a wrong value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    iterations: Option<Spanned<toml::Value>>,
    concurrency: Option<Spanned<toml::Value>>,
    base_url: Option<Spanned<String>>,
    keep_alive: Option<Spanned<toml::Value>>,
    timeout: Option<Spanned<toml::Value>>,
    step: Option<Vec<Spanned<RawStep>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    json: Option<Spanned<toml::Value>>,
    body: Option<Spanned<String>>,
    headers: Option<BTreeMap<String, Spanned<String>>>,
    expect_status: Option<Spanned<toml::Value>>,
    timeout: Option<Spanned<toml::Value>>,
    capture: Option<BTreeMap<String, Spanned<String>>>,
}

/// Only where the steps are: used to name the step a `toml` error falls in.
#[derive(Deserialize)]
struct StepPlaces {
    #[serde(default)]
    step: Vec<Spanned<IgnoredAny>>,
}

/// Where the top-level keys and tables are, to tell a step from a later top-level table.
type TopPlaces = BTreeMap<String, Spanned<IgnoredAny>>;

/// Parses and checks scenario text; `source_name` (usually the file name) prefixes errors.
pub(super) fn parse(text: &str, source_name: &str) -> Result<Scenario, ScenarioError> {
    Parser { text, source_name }.scenario()
}

struct Parser<'a> {
    text: &'a str,
    source_name: &'a str,
}

impl Parser<'_> {
    fn scenario(&self) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario = toml::from_str(self.text).map_err(|e| self.toml_error(&e))?;

        let iterations = match &raw.iterations {
            None => DEFAULT_ITERATIONS,
            Some(v) => positive(v.get_ref(), u64::MAX).ok_or_else(|| {
                self.at(
                    v.span(),
                    format!("iterations must be a positive integer, got {}", v.get_ref()),
                )
            })?,
        };
        let concurrency = match &raw.concurrency {
            None => DEFAULT_CONCURRENCY,
            Some(v) => positive(v.get_ref(), MAX_CONCURRENCY as u64).ok_or_else(|| {
                self.at(
                    v.span(),
                    format!(
                        "concurrency must be an integer from 1 to {MAX_CONCURRENCY}, got {}",
                        v.get_ref()
                    ),
                )
            })? as usize,
        };
        let keep_alive = match &raw.keep_alive {
            None => false,
            Some(v) => v.get_ref().as_bool().ok_or_else(|| {
                self.at(
                    v.span(),
                    format!("keep_alive must be true or false, got {}", v.get_ref()),
                )
            })?,
        };
        let timeout = raw
            .timeout
            .as_ref()
            .map(|v| self.duration("timeout", v))
            .transpose()?;
        if let Some(url) = &raw.base_url {
            BaseUrl::parse(url.get_ref())
                .map_err(|e| self.at(url.span(), format!("base_url: {e}")))?;
        }

        let raw_steps = raw.step.unwrap_or_default();
        if raw_steps.is_empty() {
            return Err(ScenarioError {
                source_name: self.source_name.into(),
                line: None,
                message: "no steps: add at least one [[step]] with a path".into(),
            });
        }
        // Capture names, in the order steps introduce them: a step's `{{name}}` is a slot
        // for a value an earlier step captured.
        let mut names = Vec::new();
        let steps = raw_steps
            .into_iter()
            .enumerate()
            .map(|(index, step)| self.step(index + 1, step, &mut names))
            .collect::<Result<_, _>>()?;
        Ok(Scenario {
            iterations,
            concurrency,
            base_url: raw.base_url.map(Spanned::into_inner),
            steps,
            keep_alive,
            timeout,
            kept: Default::default(),
        })
    }

    fn step(
        &self,
        number: usize,
        raw: Spanned<RawStep>,
        names: &mut Vec<String>,
    ) -> Result<Step, ScenarioError> {
        let fail = |span: Range<usize>, message: String| {
            self.at(span, format!("step {number}: {message}"))
        };
        let step_span = raw.span();
        let raw = raw.into_inner();

        let method = match &raw.method {
            None => "GET".to_owned(),
            Some(m) => check_method(m.get_ref()).map_err(|e| fail(m.span(), e.to_string()))?,
        };
        let path = raw.path.as_ref().ok_or_else(|| {
            fail(
                step_span.clone(),
                "missing path (e.g. path = \"/api/items\")".into(),
            )
        })?;
        check_path(path.get_ref()).map_err(|e| fail(path.span(), e.to_string()))?;

        let body = match (&raw.json, &raw.body) {
            (Some(json), Some(body)) => {
                let later = if json.span().start > body.span().start {
                    json.span()
                } else {
                    body.span()
                };
                return Err(fail(later, "set either json or body, not both".into()));
            }
            (Some(json), None) => {
                let value = toml_to_json(json.get_ref())
                    .map_err(|e| fail(json.span(), format!("json: {e}")))?;
                Some(Body::Json(Template::new(value.to_string())))
            }
            (None, Some(body)) => Some(Body::Text(Template::new(body.get_ref().as_str()))),
            (None, None) => None,
        };

        let mut headers = Vec::new();
        for (name, value) in raw.headers.iter().flatten() {
            check_header(name, value.get_ref()).map_err(|e| fail(value.span(), e.to_string()))?;
            headers.push((name.clone(), Template::new(value.get_ref().as_str())));
        }

        let expect_status = match &raw.expect_status {
            None => None,
            Some(v) => Some(
                positive(v.get_ref(), 599)
                    .filter(|s| *s >= 100)
                    .ok_or_else(|| {
                        fail(
                            v.span(),
                            format!(
                                "expect_status must be an HTTP status from 100 to 599, got {}",
                                v.get_ref()
                            ),
                        )
                    })? as u16,
            ),
        };

        let timeout = raw
            .timeout
            .as_ref()
            .map(|v| {
                self.duration("timeout", v)
                    .map_err(|e| fail(v.span(), e.message))
            })
            .transpose()?;

        let mut path = Template::new(path.get_ref().as_str());
        path.bind_captures(names);
        for (_, value) in &mut headers {
            value.bind_captures(names);
        }
        let mut body = body;
        match &mut body {
            Some(Body::Json(t) | Body::Text(t)) => t.bind_captures(names),
            None => {}
        }
        let mut capture = Vec::new();
        for (name, path) in raw.capture.iter().flatten() {
            let slot = names.iter().position(|n| n == name).unwrap_or_else(|| {
                names.push(name.clone());
                names.len() - 1
            });
            capture
                .push(Capture::new(name, path.get_ref(), slot).map_err(|e| fail(path.span(), e))?);
        }

        Ok(Step {
            method,
            path,
            headers,
            body,
            expect_status,
            timeout,
            capture,
        })
    }

    /// A duration written as a string (`"5s"`, `"500ms"`).
    fn duration(
        &self,
        key: &str,
        value: &Spanned<toml::Value>,
    ) -> Result<std::time::Duration, ScenarioError> {
        let why = match value.get_ref().as_str() {
            Some(text) => match crate::duration::parse_duration(text) {
                Ok(d) => return Ok(d),
                Err(e) => e,
            },
            None => format!(
                "write it as a string with a unit, e.g. \"5s\", got {}",
                value.get_ref()
            ),
        };
        Err(self.at(value.span(), format!("{key}: {why}")))
    }

    fn at(&self, span: Range<usize>, message: String) -> ScenarioError {
        ScenarioError {
            source_name: self.source_name.into(),
            line: Some(line_of(self.text, span.start)),
            message,
        }
    }

    /// Turns a `toml` error (several lines, with a source excerpt) into our one-liner,
    /// naming the step it falls in when there is one.
    fn toml_error(&self, error: &toml::de::Error) -> ScenarioError {
        let message = tidy_toml_message(error.message());
        let Some(span) = error.span() else {
            return ScenarioError {
                source_name: self.source_name.into(),
                line: None,
                message,
            };
        };
        let message = match self.step_at(span.start) {
            Some(number) => format!("step {number}: {message}"),
            None => message,
        };
        self.at(span, message)
    }

    /// The 1-based step whose table holds byte `offset`, if the file parses far enough to say.
    fn step_at(&self, offset: usize) -> Option<usize> {
        let steps = toml::from_str::<StepPlaces>(self.text).ok()?.step;
        let tops = toml::from_str::<TopPlaces>(self.text).ok()?;
        // The last step or top-level entry that starts at or before the offset holds it.
        let (index, step_start) = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.span().start))
            .rev()
            .find(|(_, s)| *s <= offset)?;
        let later_top_level = tops.iter().any(|(key, place)| {
            key != "step" && (step_start..=offset).contains(&place.span().start)
        });
        (!later_top_level).then_some(index + 1)
    }
}

/// 1-based line number of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// `value` as an integer in 1..=max, if it is one.
fn positive(value: &toml::Value, max: u64) -> Option<u64> {
    value
        .as_integer()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| (1..=max).contains(n))
}

/// Makes serde's messages read like ours: `unknown field 'pth' (expected one of a, b)`.
fn tidy_toml_message(message: &str) -> String {
    let one_line = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(rest) = one_line.strip_prefix("unknown field `") {
        if let Some((name, expected)) = rest.split_once("`, expected ") {
            let expected = expected.replace('`', "");
            return format!("unknown field '{name}' (expected {expected})");
        }
    }
    one_line.replace('`', "'")
}

/// A TOML float JSON cannot carry (NaN, infinities).
#[derive(Debug, thiserror::Error)]
#[error("{0} cannot be written as JSON")]
struct NotJson(f64);

/// TOML and JSON differ in two places: dates (sent as their TOML text) and non-finite floats
/// (which JSON cannot carry).
fn toml_to_json(value: &toml::Value) -> Result<serde_json::Value, NotJson> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(n) => J::from(*n),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or(NotJson(*f))?,
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => {
            J::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => J::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, NotJson>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Scenario::parse(text, "s.toml").unwrap_err().to_string()
    }

    #[test]
    fn full_example() {
        let s = Scenario::parse(
            r#"
iterations = 10
concurrency = 2
base_url = "http://127.0.0.1:3000"
keep_alive = true
[[step]]
method = "post"
path = "/api/login"
json = { email = "user{{i}}@example.com", password = "pw", n = [1, 2.5, true], "k{{i}}" = {} }
[[step]]
path = "/api/dashboard"
expect_status = 200
[[step]]
method = "PUT"
path = "/raw/{{i}}"
headers = { "x-trace" = "t{{i}}", "content-type" = "text/csv" }
body = "a,b\n{{i}},2"
"#,
            "s.toml",
        )
        .unwrap();
        assert_eq!((s.iterations, s.concurrency), (10, 2));
        assert!(s.keep_alive);
        assert_eq!(s.base_url.as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(s.steps.len(), 3);
        let login = &s.steps[0];
        assert_eq!(login.method, "POST");
        let Some(Body::Json(json)) = &login.body else {
            panic!()
        };
        let parsed: serde_json::Value = serde_json::from_str(&json.render(5)).unwrap();
        assert_eq!(parsed["email"], "user5@example.com");
        assert_eq!(parsed["n"], serde_json::json!([1, 2.5, true]));
        assert!(parsed.get("k5").is_some());
        assert_eq!(s.steps[1].method, "GET");
        assert_eq!(s.steps[1].expect_status, Some(200));
        let raw = &s.steps[2];
        assert_eq!(raw.path.render(3), "/raw/3");
        assert!(matches!(&raw.body, Some(Body::Text(t)) if t.render(3) == "a,b\n3,2"));
        assert_eq!(raw.headers.len(), 2);
        assert_eq!(raw.label(), "PUT /raw/{{i}}");
    }

    #[test]
    fn defaults() {
        let s = Scenario::parse("[[step]]\npath = \"/\"\n", "s.toml").unwrap();
        assert_eq!(
            (s.iterations, s.concurrency, s.base_url),
            (DEFAULT_ITERATIONS, DEFAULT_CONCURRENCY, None)
        );
    }

    #[test]
    fn errors_name_file_line_and_step() {
        let steps = "iterations = 5\n\n[[step]]\npath = \"/a\"\n\n[[step]]\nmethod = \"POST\"\n";
        assert_eq!(
            err(&format!("{steps}pth = \"/b\"\n")),
            "s.toml:8: step 2: unknown field 'pth' (expected one of method, path, json, body, headers, expect_status, timeout, capture)"
        );
        assert_eq!(
            err(&format!("{steps}path = \"/b\"\nmethod = 3\n"))
                .split(':')
                .nth(1),
            Some("9")
        );
        assert_eq!(
            err(steps),
            "s.toml:6: step 2: missing path (e.g. path = \"/api/items\")"
        );
        assert_eq!(
            err("[[step]]\nmethod = \"FETCH\"\npath = \"/\"\n"),
            "s.toml:2: step 1: bad method 'FETCH' (expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"
        );
        assert_eq!(
            err("[[step]]\npath = \"api\"\n"),
            "s.toml:2: step 1: path must start with '/', got 'api'"
        );
        assert_eq!(
            err("[[step]]\npath = \"/\"\njson = {a = 1}\nbody = \"x\"\n"),
            "s.toml:4: step 1: set either json or body, not both"
        );
        assert_eq!(
            err("[[step]]\npath = \"/\"\nexpect_status = 700\n"),
            "s.toml:3: step 1: expect_status must be an HTTP status from 100 to 599, got 700"
        );
        assert_eq!(
            err("[[step]]\npath = \"/\"\nexpect_status = \"200\"\n"),
            "s.toml:3: step 1: expect_status must be an HTTP status from 100 to 599, got \"200\""
        );
        assert_eq!(
            err("iterations = 0\n[[step]]\npath = \"/\"\n"),
            "s.toml:1: iterations must be a positive integer, got 0"
        );
        assert_eq!(
            err("\nkeep_alive = \"yes\"\n[[step]]\npath = \"/\"\n"),
            "s.toml:2: keep_alive must be true or false, got \"yes\""
        );
        assert_eq!(
            err("\nconcurrency = 0\n[[step]]\npath = \"/\"\n"),
            "s.toml:2: concurrency must be an integer from 1 to 1024, got 0"
        );
        assert_eq!(
            err("itterations = 1\n"),
            "s.toml:1: unknown field 'itterations' (expected one of iterations, concurrency, base_url, keep_alive, timeout, step)"
        );
        assert_eq!(
            err("iterations = 1\n"),
            "s.toml: no steps: add at least one [[step]] with a path"
        );
        assert!(err("base_url = \"https://x\"\n[[step]]\npath = \"/\"\n")
            .starts_with("s.toml:1: base_url: "));
        assert_eq!(
            err("[[step]]\npath = \"/\"\nheaders = { \"content-length\" = \"3\" }\n"),
            "s.toml:3: step 1: header 'content-length' is set by the runner"
        );
    }

    #[test]
    fn timeouts_at_top_level_and_per_step() {
        let s = Scenario::parse(
            "timeout = \"5s\"\n[[step]]\npath = \"/a\"\n[[step]]\npath = \"/events\"\ntimeout = \"300ms\"\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(s.timeout, Some(std::time::Duration::from_secs(5)));
        assert_eq!(s.steps[0].timeout, None);
        assert_eq!(
            s.steps[1].timeout,
            Some(std::time::Duration::from_millis(300))
        );
        assert_eq!(
            err("timeout = 5\n[[step]]\npath = \"/\"\n"),
            "s.toml:1: timeout: write it as a string with a unit, e.g. \"5s\", got 5"
        );
        assert_eq!(
            err("[[step]]\npath = \"/\"\ntimeout = \"5\"\n"),
            "s.toml:3: step 1: timeout: '5' has no unit: write e.g. 5s or 500ms"
        );
    }

    #[test]
    fn captures_become_slots_in_later_steps_only() {
        let s = Scenario::parse(
            "[[step]]\npath = \"/a/{{id}}\"\ncapture = { id = \"$.id\" }\n[[step]]\npath = \"/b/{{id}}\"\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(s.steps[0].capture[0].name, "id");
        let captured = ["s-1".to_owned()];
        let mut out = Vec::new();
        s.steps[0]
            .path
            .render_captured_into(0.into(), &captured, &mut out);
        assert_eq!(out, b"/a/{{id}}", "not yet captured when the step is sent");
        out.clear();
        s.steps[1]
            .path
            .render_captured_into(0.into(), &captured, &mut out);
        assert_eq!(out, b"/b/s-1");
        assert_eq!(
            err("[[step]]\npath = \"/\"\ncapture = { id = \"id\" }\n"),
            "s.toml:3: step 1: capture path 'id' must look like $.id, $.user.id or $.items[0].id"
        );
    }

    #[test]
    fn connection_close_asks_for_a_connection_per_request() {
        let s = Scenario::parse(
            "[[step]]\npath = \"/\"\nheaders = { Connection = \"close\" }\n",
            "s.toml",
        )
        .unwrap();
        assert_eq!(s.steps[0].headers[0].0, "Connection");
        assert_eq!(
            err("[[step]]\npath = \"/\"\nheaders = { Connection = \"upgrade\" }\n"),
            "s.toml:3: step 1: header 'Connection' may only be close or keep-alive, got 'upgrade'"
        );
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let e = err("iterations = 5\n\n[[step]\npath = \"/\"\n");
        assert!(e.starts_with("s.toml:3: "), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = err("[[step]]\npath = \"/\"\nheaders = { a = \"1\"\n");
        assert!(e.starts_with("s.toml:3: "), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn inline_steps_are_named_too() {
        assert_eq!(
            err("step = [{ path = \"/a\" },\n  { path = \"/b\", x = 1 }]\n"),
            "s.toml:2: step 2: unknown field 'x' (expected one of method, path, json, body, headers, expect_status, timeout, capture)"
        );
    }
}
