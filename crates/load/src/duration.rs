//! Durations as people write them in a scenario or on a command line: `5s`, `500ms`, `2m`,
//! `1.5s`. One reader for all of them, so a timeout reads the same wherever it is given.

use std::time::Duration;

/// Reads `text` as a number followed by a unit (`ms`, `s`, `m`), e.g. `5s`, `250ms`, `1.5s`,
/// `2m`. A bare number is refused: whether `5` means seconds or milliseconds is a guess.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "" => return Err(format!("'{text}' has no unit: write e.g. 5s or 500ms")),
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use ms, s or m)"
            ))
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 5s, 500ms, 2m)"))?;
    let seconds = value * scale;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("'{text}' must be more than zero"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("'{text}' is too long"))
}

/// `5 s`, `500 ms`, `1.5 s`: how a duration read by [`parse_duration`] is shown back.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else {
        let s = d.as_secs_f64();
        if (s - s.round()).abs() < 1e-9 {
            format!("{} s", s.round())
        } else {
            format!("{s:.1} s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration(" 3 s "), Ok(Duration::from_secs(3)));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5h").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("0s").unwrap_err().contains("more than zero"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1.2.3s").is_err());
    }

    #[test]
    fn shows_back() {
        assert_eq!(show_duration(Duration::from_secs(5)), "5 s");
        assert_eq!(show_duration(Duration::from_millis(300)), "300 ms");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5 s");
    }
}
