//! Values carried from a response into later requests: a step's `capture = { id = "$.id" }`
//! takes `id` from its JSON response, and later steps send it where they write `{{id}}`
//! (POST /sessions answers with an id, the next step uses it).
//!
//! Paths are the plain subset of JSONPath everyone writes: `$`, then `.key` or `[n]` steps
//! (`$.session.token`, `$.items[0].id`, `$["odd key"]` is not supported). Parsed once, when
//! the scenario loads; applied to the parsed body of each response of the capturing step.

use serde_json::Value;

/// One value to take from a step's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The name later steps write as `{{name}}`.
    pub name: String,
    /// Where in the response's JSON, as written (`$.id`).
    pub path: String,
    steps: Vec<PathStep>,
    /// Index of the value among all of the scenario's capture names.
    pub(crate) slot: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PathStep {
    Key(String),
    Index(usize),
}

impl Capture {
    /// `name` taken from `path`; `slot` numbers the name among the scenario's captures.
    pub(crate) fn new(name: &str, path: &str, slot: usize) -> Result<Capture, String> {
        check_name(name)?;
        Ok(Capture {
            name: name.to_owned(),
            path: path.to_owned(),
            steps: parse_path(path)?,
            slot,
        })
    }

    /// The value at the path in `body` (a JSON response), as text to send: a string as it
    /// is, anything else as its JSON.
    pub(crate) fn take(&self, body: &[u8]) -> Result<String, String> {
        let json: Value =
            serde_json::from_slice(body).map_err(|_| "the response is not JSON".to_owned())?;
        let mut at = &json;
        for step in &self.steps {
            let next = match step {
                PathStep::Key(k) => at.get(k.as_str()),
                PathStep::Index(i) => at.get(*i),
            };
            at = next.ok_or_else(|| format!("no {} in the response", self.path))?;
        }
        Ok(match at {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "capture name '{name}' must be letters, digits and _ (e.g. session_id)"
        ));
    }
    if name == "i" || name == "seq" {
        return Err(format!(
            "capture name '{name}' is taken: {{{{{name}}}}} is the runner's number"
        ));
    }
    Ok(())
}

fn parse_path(path: &str) -> Result<Vec<PathStep>, String> {
    let bad = || format!("capture path '{path}' must look like $.id, $.user.id or $.items[0].id");
    let mut rest = path.strip_prefix('$').ok_or_else(bad)?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(bad());
            }
            steps.push(PathStep::Key(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let (index, after) = after.split_once(']').ok_or_else(bad)?;
            steps.push(PathStep::Index(index.trim().parse().map_err(|_| bad())?));
            rest = after;
        } else {
            return Err(bad());
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_values_by_path() {
        let body = br#"{"id":"s-7","n":3,"user":{"roles":["a","b"]},"ok":true}"#;
        let take = |path: &str| Capture::new("x", path, 0).unwrap().take(body);
        assert_eq!(take("$.id"), Ok("s-7".into()));
        assert_eq!(take("$.n"), Ok("3".into()));
        assert_eq!(take("$.user.roles[1]"), Ok("b".into()));
        assert_eq!(take("$.user.roles"), Ok(r#"["a","b"]"#.into()));
        assert_eq!(take("$.nope"), Err("no $.nope in the response".into()));
        assert_eq!(
            Capture::new("x", "$.id", 0).unwrap().take(b"<html>"),
            Err("the response is not JSON".into())
        );
    }

    #[test]
    fn refuses_bad_paths_and_names() {
        for path in ["id", "$.", "$..a", "$[x]", "$[0", "$a"] {
            assert!(Capture::new("x", path, 0).is_err(), "{path}");
        }
        assert!(Capture::new("1st", "$.id", 0).is_err());
        assert!(Capture::new("a-b", "$.id", 0).is_err());
        assert!(Capture::new("seq", "$.id", 0)
            .unwrap_err()
            .contains("{{seq}}"));
    }
}
