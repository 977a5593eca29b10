//! The cookie jar of one iteration (one virtual user).
//!
//! Leak hunting needs sessions to behave like real users' sessions: a login that sets a
//! cookie must be followed by requests that carry it, or the service never builds (and never
//! frees) the per-session state that typically leaks. Each iteration therefore gets a fresh
//! jar; it is never shared between iterations, so concurrent virtual users cannot see each
//! other's sessions.
//!
//! All requests of a run go to one origin, so `Domain`, `Path`, `Secure`, `HttpOnly` and
//! `SameSite` are ignored. Only deletion is honoured: `Max-Age` ≤ 0, or an `Expires` date in
//! the past (`Max-Age` wins when both are present, as in RFC 6265).

use std::time::{SystemTime, UNIX_EPOCH};

/// Cookies received by one iteration, in the order they were first set.
#[derive(Debug, Default, Clone)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// Forgets every cookie (keeps the allocation for the next iteration).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// True if the jar holds no cookie.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The value of cookie `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Applies one `Set-Cookie` header value: stores, replaces or deletes a cookie.
    /// Malformed values (no `=`, empty name, not UTF-8) are ignored, as browsers do.
    pub fn set_cookie(&mut self, header_value: &[u8]) {
        let Ok(header_value) = std::str::from_utf8(header_value) else {
            return;
        };
        let mut fields = header_value.split(';');
        let pair = fields.next().unwrap_or("");
        let Some((name, value)) = pair.split_once('=') else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }

        let mut max_age: Option<i64> = None;
        let mut expires_in_past = false;
        for attribute in fields {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let key = key.trim();
            if key.eq_ignore_ascii_case("max-age") {
                // An unparsable Max-Age is ignored (RFC 6265 §5.2.2).
                if let Ok(seconds) = val.trim().parse::<i64>() {
                    max_age = Some(seconds);
                }
            } else if key.eq_ignore_ascii_case("expires") {
                if let Some(at) = parse_cookie_date(val) {
                    expires_in_past = at <= unix_now();
                }
            }
        }
        let deleted = match max_age {
            Some(seconds) => seconds <= 0,
            None => expires_in_past,
        };

        let existing = self.cookies.iter().position(|(n, _)| n == name);
        match (existing, deleted) {
            (Some(at), true) => {
                self.cookies.remove(at);
            }
            (Some(at), false) => {
                let slot = &mut self.cookies[at].1;
                slot.clear();
                slot.push_str(value);
            }
            (None, true) => {}
            (None, false) => self.cookies.push((name.to_owned(), value.to_owned())),
        }
    }

    /// Appends a `Cookie:` header line (with CRLF) to `out`, or nothing if the jar is empty.
    pub fn write_header(&self, out: &mut Vec<u8>) {
        if self.cookies.is_empty() {
            return;
        }
        out.extend_from_slice(b"Cookie: ");
        for (index, (name, value)) in self.cookies.iter().enumerate() {
            if index > 0 {
                out.extend_from_slice(b"; ");
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b'=');
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Parses a cookie `Expires` date into Unix seconds, leniently as RFC 6265 §5.1.1 asks:
/// accepts `Thu, 01 Jan 1970 00:00:00 GMT`, `Thursday, 01-Jan-70 00:00:00 GMT`,
/// `Thu Jan  1 00:00:00 1970` and similar.
fn parse_cookie_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':')) {
        if token.is_empty() {
            continue;
        }
        if time.is_none() && token.contains(':') {
            let mut hms = token.split(':').map(|n| n.parse::<i64>().ok());
            if let (Some(Some(h)), Some(Some(m)), Some(Some(s))) =
                (hms.next(), hms.next(), hms.next())
            {
                time = Some((h, m, s));
                continue;
            }
        }
        if token.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = token.parse().ok()?;
            if day.is_none() && token.len() <= 2 {
                day = Some(n);
            } else if year.is_none() && (2..=4).contains(&token.len()) {
                year = Some(match n {
                    0..=69 => n + 2000,
                    70..=99 => n + 1900,
                    _ => n,
                });
            }
            continue;
        }
        if month.is_none() && token.len() >= 3 {
            let prefix = token[..3].to_ascii_lowercase();
            if let Some(index) = MONTHS.iter().position(|m| *m == prefix) {
                month = Some(index as i64 + 1);
            }
        }
    }
    let (day, month, year) = (day?, month?, year?);
    if year < 1601 {
        return None;
    }
    // jiff checks that the date and time exist (no 31 February, no 24:00:00).
    let (h, m, s) = time.unwrap_or((0, 0, 0));
    let small = |n: i64| i8::try_from(n).ok();
    let date =
        jiff::civil::Date::new(i16::try_from(year).ok()?, small(month)?, small(day)?).ok()?;
    let time = jiff::civil::Time::new(small(h)?, small(m)?, small(s)?, 0).ok()?;
    let utc = jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(time))
        .ok()?;
    Some(utc.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(jar: &CookieJar) -> String {
        let mut out = Vec::new();
        jar.write_header(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn stores_replaces_and_sends() {
        let mut jar = CookieJar::new();
        assert_eq!(header(&jar), "");
        jar.set_cookie(b"sid=abc; Path=/; HttpOnly; SameSite=Lax");
        jar.set_cookie(b"theme=dark");
        assert_eq!(header(&jar), "Cookie: sid=abc; theme=dark\r\n");
        jar.set_cookie(b"sid=def; Max-Age=3600");
        assert_eq!(jar.get("sid"), Some("def"));
        assert_eq!(header(&jar), "Cookie: sid=def; theme=dark\r\n");
        jar.clear();
        assert!(jar.is_empty());
    }

    #[test]
    fn honours_deletion() {
        let mut jar = CookieJar::new();
        jar.set_cookie(b"a=1");
        jar.set_cookie(b"b=2");
        jar.set_cookie(b"c=3");
        jar.set_cookie(b"a=; Max-Age=0");
        jar.set_cookie(b"b=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(header(&jar), "Cookie: c=3\r\n");
        // A future expiry keeps the cookie; Max-Age wins over Expires.
        jar.set_cookie(b"d=4; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
        jar.set_cookie(b"e=5; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        jar.set_cookie(b"c=x; Max-Age=-1");
        assert_eq!(header(&jar), "Cookie: d=4; e=5\r\n");
    }

    #[test]
    fn ignores_malformed() {
        let mut jar = CookieJar::new();
        jar.set_cookie(b"novalue");
        jar.set_cookie(b"=anonymous");
        jar.set_cookie(b"\xff=1");
        assert!(jar.is_empty());
    }

    #[test]
    fn cookie_dates() {
        assert_eq!(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_cookie_date("Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_cookie_date("Wed, 29 Feb 2040 00:00:01 GMT"),
            Some(2_214_086_401)
        );
        assert_eq!(parse_cookie_date("garbage"), None);
    }

    #[test]
    fn dates_that_do_not_exist_are_not_dates() {
        // RFC 6265 §5.1.1: no such date, no date (the cookie then has no expiry).
        assert_eq!(parse_cookie_date("Tue, 31 Feb 2026 00:00:00 GMT"), None);
        assert_eq!(parse_cookie_date("Tue, 01 Jan 2026 24:00:00 GMT"), None);
    }
}
