//! Requests as bytes: each step is prepared once, when a run starts, and rendered for every
//! iteration into a buffer the worker reuses, ready to be sent with one `write_all`.

use leakhunt_http_wire::BaseUrl;

use crate::cookies::CookieJar;
use crate::scenario::{Body, Step};
use crate::template::{push_decimal, Numbers, Template};

/// One step, ready to be written as request bytes for any iteration.
pub(crate) struct PreparedRequest {
    /// `METHOD /prefix` — the fixed start of the request line.
    start: Vec<u8>,
    path: Template,
    headers: Vec<(String, Template)>,
    /// `Content-Type: …\r\n` to add, unless the step sets its own.
    content_type: Option<&'static [u8]>,
    body: Option<Template>,
    /// `Host: …\r\n` unless the step sets its own Host header.
    host: Option<Vec<u8>>,
    /// POST, PUT and PATCH without a body still send `Content-Length: 0`: some servers
    /// wait for a body, or answer 411, without it.
    empty_body_length: bool,
    /// HEAD responses never have a body, whatever their headers say.
    pub(crate) head: bool,
}

impl PreparedRequest {
    pub(crate) fn new(step: &Step, base: &BaseUrl) -> PreparedRequest {
        let has_header = |name: &str| {
            step.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut start = Vec::new();
        start.extend_from_slice(step.method.as_bytes());
        start.push(b' ');
        start.extend_from_slice(base.prefix().as_bytes());
        let content_type: Option<&'static [u8]> = match (&step.body, has_header("content-type")) {
            (_, true) | (None, _) => None,
            (Some(Body::Json(_)), false) => Some(b"Content-Type: application/json\r\n"),
            (Some(Body::Text(_)), false) => Some(b"Content-Type: text/plain; charset=utf-8\r\n"),
        };
        let host =
            (!has_header("host")).then(|| format!("Host: {}\r\n", base.host_header()).into_bytes());
        PreparedRequest {
            start,
            path: step.path.clone(),
            headers: step.headers.clone(),
            content_type,
            body: step.body.as_ref().map(|b| b.template().clone()),
            host,
            empty_body_length: matches!(step.method.as_str(), "POST" | "PUT" | "PATCH"),
            head: step.method == "HEAD",
        }
    }

    /// Writes the whole request for the iteration `numbers` name, with the values earlier
    /// steps of the iteration captured (by slot) and the jar's cookies, into `out`.
    pub(crate) fn write(
        &self,
        numbers: Numbers,
        captured: &[String],
        jar: &CookieJar,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        out.extend_from_slice(&self.start);
        self.path.render_captured_into(numbers, captured, out);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        if let Some(host) = &self.host {
            out.extend_from_slice(host);
        }
        out.extend_from_slice(b"User-Agent: leakhunt\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            value.render_captured_into(numbers, captured, out);
            out.extend_from_slice(b"\r\n");
        }
        jar.write_header(out);
        if let Some(content_type) = self.content_type {
            out.extend_from_slice(content_type);
        }
        match &self.body {
            Some(body) => {
                out.extend_from_slice(b"Content-Length: ");
                push_decimal(out, body.rendered_captured_len(numbers, captured) as u64);
                out.extend_from_slice(b"\r\n\r\n");
                body.render_captured_into(numbers, captured, out);
            }
            None if self.empty_body_length => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
            None => out.extend_from_slice(b"\r\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_request_line;
    use crate::template::Template;

    #[test]
    fn writes_requests() {
        let base = BaseUrl::parse("http://127.0.0.1:3000/v1").unwrap();
        let mut jar = CookieJar::new();
        jar.set_cookie(b"sid=s7");
        let mut out = Vec::new();

        let step = parse_request_line(r#"POST /login/{{i}} {"u":"u{{i}}"}"#).unwrap();
        PreparedRequest::new(&step, &base).write(7.into(), &[], &jar, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "POST /v1/login/7 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: leakhunt\r\nCookie: sid=s7\r\n\
             Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"u\":\"u7\"}"
        );

        let mut step = parse_request_line("DELETE /x").unwrap();
        step.headers.push(("Host".into(), Template::new("example")));
        step.headers
            .push(("x-trace".into(), Template::new("t{{i}}")));
        PreparedRequest::new(&step, &base).write(12.into(), &[], &CookieJar::new(), &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "DELETE /v1/x HTTP/1.1\r\nUser-Agent: leakhunt\r\nHost: example\r\nx-trace: t12\r\n\r\n"
        );

        let step = parse_request_line("PUT /x").unwrap();
        PreparedRequest::new(&step, &base).write(0.into(), &[], &CookieJar::new(), &mut out);
        assert!(String::from_utf8_lossy(&out).ends_with("Content-Length: 0\r\n\r\n"));
    }
}
