//! One-line requests: `METHOD /path [JSON body]`, as `--request` takes them.

use super::{check_method, check_path, Body, ScenarioError, Step};
use crate::template::Template;

/// Parses a one-line request: `METHOD /path [JSON body]`, e.g.
/// `POST /api/login {"email":"u{{i}}@x.com"}` or `GET /health`. A line that starts with `/`
/// is a GET. The body is checked as JSON with `{{i}}` replaced by 0, so `{"id": {{i}}}` works.
pub fn parse_request_line(line: &str) -> Result<Step, ScenarioError> {
    let fail = |message: String| ScenarioError {
        source_name: format!("request {:?}", line.trim()),
        line: None,
        message,
    };
    let line = line.trim();
    let (method, rest) = if line.starts_with('/') {
        ("GET", line)
    } else {
        let (method, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        (method, rest.trim_start())
    };
    let method = check_method(method).map_err(|e| fail(e.to_string()))?;
    if rest.is_empty() {
        return Err(fail(
            "missing path (expected METHOD /path [JSON body])".into(),
        ));
    }
    let (path, body) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    check_path(path).map_err(|e| fail(e.to_string()))?;
    let body = body.trim();
    let body = if body.is_empty() {
        None
    } else {
        let template = Template::new(body);
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&template.render(0)) {
            return Err(fail(format!("body is not JSON: {e}")));
        }
        Some(Body::Json(template))
    };
    Ok(Step {
        method,
        path: Template::new(path),
        headers: Vec::new(),
        body,
        expect_status: None,
        timeout: None,
        capture: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    #[test]
    fn request_lines() {
        let s = parse_request_line(r#"POST /api/login {"email":"u{{i}}@x.com"}"#).unwrap();
        assert_eq!(s.method, "POST");
        assert_eq!(s.path.source(), "/api/login");
        assert!(matches!(&s.body, Some(Body::Json(t)) if t.render(3) == r#"{"email":"u3@x.com"}"#));
        assert_eq!(s.to_string(), r#"POST /api/login {"email":"u{{i}}@x.com"}"#);

        let s = parse_request_line("  GET /health  ").unwrap();
        assert_eq!(
            (s.method.as_str(), s.path.source(), s.body.is_none()),
            ("GET", "/health", true)
        );
        assert_eq!(
            parse_request_line("/items/{{i}}").unwrap().path.render(9),
            "/items/9"
        );
        assert!(parse_request_line(r#"put /items/{{i}} {"id": {{i}}}"#).is_ok());

        assert_eq!(
            parse_request_line("FETCH /x").unwrap_err().to_string(),
            "request \"FETCH /x\": bad method 'FETCH' (expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)"
        );
        assert!(parse_request_line("GET")
            .unwrap_err()
            .to_string()
            .contains("missing path"));
        assert!(parse_request_line("GET api")
            .unwrap_err()
            .to_string()
            .contains("must start with '/'"));
        assert!(parse_request_line("POST /x {oops")
            .unwrap_err()
            .to_string()
            .contains("body is not JSON"));

        let s = Scenario::from_request_lines(&["POST /login {}", "GET /me"], 50, 3).unwrap();
        assert_eq!((s.iterations, s.concurrency, s.steps.len()), (50, 3, 2));
        assert!(Scenario::from_request_lines::<&str>(&[], 1, 1).is_err());
    }
}
